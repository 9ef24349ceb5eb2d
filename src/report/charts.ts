/**
 * Minimal deterministic SVG charts (no dependencies): bars (Figure 4: BLEU per model, the paper's
 * rows in another colour), box plots (Figure 5: answer length per domain) and differences with
 * confidence intervals (base vs fine-tuned). Coordinates are rounded to 0.01 px so the same data
 * gives byte-identical files.
 *
 * Layout is measured, not fixed: the left margin makes room for the widest tick label AND the
 * rotated y title beside it; the bottom and left margins make room for the rotated x labels
 * (a label rotated by −35° reaches w·cos 35° left of its anchor and w·sin 35° below it). Text
 * widths are estimated at 0.6 em per character (sans-serif averages ~0.5–0.55 em), so the estimate
 * errs on the roomy side. Value labels carry as many decimals as the axis step needs, so a bar
 * never reads "0.001" on an axis that ends at 0.0008.
 */

const W = 720;
const PLOT_H = 250;
const TOP = 40;
const RIGHT = 20;
const COLOR = '#4e79a7';
const PAPER_COLOR = '#bab0ac';
const FONT = 11;
const ROTATION = 35;
const COS = Math.cos((ROTATION * Math.PI) / 180);
const SIN = Math.sin((ROTATION * Math.PI) / 180);

const r2 = (x: number): string => (Math.round(x * 100) / 100).toString();

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Estimated rendered width of `s` in px at `size` px (0.6 em per character). */
export function textWidth(s: string, size = FONT): number {
  return [...s].length * size * 0.6;
}

/** A "nice" axis maximum and tick step covering `max`. */
export function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const step = niceStep(max / 5);
  return { top: clean(Math.ceil(max / step - 1e-9) * step), step };
}

/** k · step without the binary noise (3 · 0.0002 = 0.0006000000000000001 → 0.0006). */
const clean = (x: number): number => Number(x.toPrecision(12));

function niceStep(raw: number): number {
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  return clean([1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw * (1 - 1e-12))!);
}

/** A nice axis [lo, hi] ⊇ [min, max] (always containing 0) with its step. */
export function niceRange(min: number, max: number): { lo: number; hi: number; step: number } {
  const a = Math.min(0, min);
  const b = Math.max(0, max);
  if (!(b - a > 0)) return { lo: 0, hi: 1, step: 0.2 };
  const step = niceStep((b - a) / 5);
  return { lo: clean(Math.floor(a / step + 1e-9) * step), hi: clean(Math.ceil(b / step - 1e-9) * step), step };
}

/** Decimals needed to write multiples of `step` exactly (0.0002 → 4, 0.25 → 2, 20 → 0). */
export function stepDecimals(step: number): number {
  for (let d = 0; d <= 12; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-9) return d;
  return 12;
}

/** A value label for an axis with this step: one decimal more than the ticks, at least three. */
export function valueLabel(v: number, step: number): string {
  return v.toFixed(Math.max(3, stepDecimals(step) + 1));
}

function tickLabel(v: number, step: number): string {
  return (Math.abs(v) < step * 1e-9 ? 0 : v).toFixed(stepDecimals(step));
}

interface Frame {
  left: number;
  bottom: number;
  slot: number;
  /** x labels, shortened with … where even the widest margin cannot hold them */
  labels: string[];
}

/**
 * Margins for `n` slots with these x labels and y tick labels: the y title (rotated, 12 px) sits
 * at x = 16, the tick labels end 6 px left of the axis; every rotated x label must stay right of
 * x = 4.
 */
function layout(xLabels: readonly string[], tickLabels: readonly string[]): Frame {
  const maxLabel = 40;
  const labels = xLabels.map((l) => ([...l].length > maxLabel ? `${[...l].slice(0, maxLabel - 1).join('')}…` : l));
  let left = Math.max(56, 16 + 10 + Math.max(0, ...tickLabels.map((t) => textWidth(t))) + 8);
  let slot = (W - left - RIGHT) / Math.max(1, labels.length);
  for (let pass = 0; pass < 3; pass++) {
    labels.forEach((l, i) => {
      const reach = textWidth(l) * COS - (i + 0.5) * slot; // how far left of the plot's edge label i reaches
      left = Math.max(left, Math.ceil(reach + 8));
    });
    left = Math.min(left, W / 2);
    slot = (W - left - RIGHT) / Math.max(1, labels.length);
  }
  const bottom = Math.ceil(Math.max(40, ...labels.map((l) => textWidth(l) * SIN + FONT * COS + 16)));
  return { left, bottom, slot, labels };
}

function svgOpen(height: number, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">`,
    `<rect width="${W}" height="${height}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${xmlEscape(title)}</text>`,
  ];
}

/** The y axis (grid, tick labels, title) and the rotated x labels of a frame. */
function axes(f: Frame, yTitle: string, ticks: readonly number[], step: number, y: (v: number) => number): string[] {
  const out: string[] = [];
  for (const v of ticks) {
    out.push(`<line x1="${f.left}" x2="${W - RIGHT}" y1="${r2(y(v))}" y2="${r2(y(v))}" stroke="#ddd"/>`);
    out.push(`<text x="${r2(f.left - 6)}" y="${r2(y(v) + 4)}" text-anchor="end" font-size="${FONT}">${xmlEscape(tickLabel(v, step))}</text>`);
  }
  const mid = TOP + PLOT_H / 2;
  out.push(`<text x="16" y="${mid}" transform="rotate(-90 16 ${mid})" text-anchor="middle" font-size="12">${xmlEscape(yTitle)}</text>`);
  const yPos = TOP + PLOT_H + 14;
  f.labels.forEach((label, i) => {
    const x = r2(f.left + (i + 0.5) * f.slot);
    out.push(`<text x="${x}" y="${yPos}" transform="rotate(-${ROTATION} ${x} ${yPos})" text-anchor="end" font-size="${FONT}">${xmlEscape(label)}</text>`);
  });
  return out;
}

function ticksOf(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let k = Math.round(lo / step); k * step <= hi + step / 2; k++) out.push(clean(k * step));
  return out;
}

export interface Bar {
  label: string;
  value: number;
  /** `paper`: a published figure (drawn grey, listed in the legend). */
  kind?: 'measured' | 'paper';
}

/** Vertical bars with value labels; bars of kind `paper` in grey with a legend. */
export function barChartSvg(title: string, yLabel: string, bars: readonly Bar[]): string {
  const { top, step } = niceScale(Math.max(0, ...bars.map((b) => b.value)));
  const ticks = ticksOf(0, top, step);
  const f = layout(bars.map((b) => b.label), ticks.map((t) => tickLabel(t, step)));
  const y = (v: number): number => TOP + PLOT_H - (v / top) * PLOT_H;
  const body: string[] = [];
  bars.forEach((b, i) => {
    const h = (Math.max(0, b.value) / top) * PLOT_H;
    const x = f.left + i * f.slot + f.slot * 0.15;
    body.push(`<rect x="${r2(x)}" y="${r2(y(Math.max(0, b.value)))}" width="${r2(f.slot * 0.7)}" height="${r2(h)}" fill="${b.kind === 'paper' ? PAPER_COLOR : COLOR}"/>`);
    body.push(`<text x="${r2(x + f.slot * 0.35)}" y="${r2(y(Math.max(0, b.value)) - 4)}" text-anchor="middle" font-size="${FONT}">${valueLabel(b.value, step)}</text>`);
  });
  const height = TOP + PLOT_H + f.bottom;
  const legend = bars.some((b) => b.kind === 'paper')
    ? [
        `<rect x="${W - RIGHT - 190}" y="30" width="10" height="10" fill="${COLOR}"/><text x="${W - RIGHT - 176}" y="39" font-size="${FONT}">this project</text>`,
        `<rect x="${W - RIGHT - 100}" y="30" width="10" height="10" fill="${PAPER_COLOR}"/><text x="${W - RIGHT - 86}" y="39" font-size="${FONT}">paper (Table II)</text>`,
      ]
    : [];
  return [...svgOpen(height, title), ...axes(f, yLabel, ticks, step, y), ...body, ...legend, `<line x1="${f.left}" x2="${W - RIGHT}" y1="${r2(y(0))}" y2="${r2(y(0))}" stroke="#333"/>`, '</svg>', ''].join('\n');
}

export interface BoxStats {
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  n: number;
}

/** Quartiles by linear interpolation (numpy's default, type 7); whiskers at min/max. */
export function boxStats(values: readonly number[]): BoxStats | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const q = (p: number): number => {
    const h = (v.length - 1) * p;
    const lo = Math.floor(h);
    return v[lo]! + (h - lo) * ((v[Math.min(lo + 1, v.length - 1)] ?? v[lo]!) - v[lo]!);
  };
  return { min: v[0]!, q1: q(0.25), median: q(0.5), q3: q(0.75), max: v[v.length - 1]!, n: v.length };
}

/** One box (quartiles, median line, min–max whiskers) per group. */
export function boxPlotSvg(title: string, yLabel: string, groups: ReadonlyArray<{ label: string; values: readonly number[] }>): string {
  const stats = groups.map((g) => ({ label: g.label, s: boxStats(g.values) }));
  const { top, step } = niceScale(Math.max(0, ...stats.map((g) => g.s?.max ?? 0)));
  const ticks = ticksOf(0, top, step);
  const f = layout(stats.map(({ label, s }) => `${label} (n=${s?.n ?? 0})`), ticks.map((t) => tickLabel(t, step)));
  const y = (v: number): number => TOP + PLOT_H - (v / top) * PLOT_H;
  const body: string[] = [];
  stats.forEach(({ s }, i) => {
    if (!s) return;
    const cx = f.left + (i + 0.5) * f.slot;
    const half = f.slot * 0.3;
    body.push(`<line x1="${r2(cx)}" x2="${r2(cx)}" y1="${r2(y(s.min))}" y2="${r2(y(s.max))}" stroke="#333"/>`);
    body.push(`<rect x="${r2(cx - half)}" y="${r2(y(s.q3))}" width="${r2(2 * half)}" height="${r2(y(s.q1) - y(s.q3))}" fill="${COLOR}" fill-opacity="0.6" stroke="#333"/>`);
    body.push(`<line x1="${r2(cx - half)}" x2="${r2(cx + half)}" y1="${r2(y(s.median))}" y2="${r2(y(s.median))}" stroke="#111" stroke-width="2"/>`);
    for (const v of [s.min, s.max]) body.push(`<line x1="${r2(cx - half / 2)}" x2="${r2(cx + half / 2)}" y1="${r2(y(v))}" y2="${r2(y(v))}" stroke="#333"/>`);
  });
  const height = TOP + PLOT_H + f.bottom;
  return [...svgOpen(height, title), ...axes(f, yLabel, ticks, step, y), ...body, `<line x1="${f.left}" x2="${W - RIGHT}" y1="${r2(y(0))}" y2="${r2(y(0))}" stroke="#333"/>`, '</svg>', ''].join('\n');
}

export interface Interval {
  label: string;
  value: number;
  low: number;
  high: number;
  /** The metric improves downwards (answer_distance, wasserstein, jsd): a negative difference is the good one. */
  lowerIsBetter?: boolean;
}

/**
 * Colour of an interval: green when the whole interval is an improvement, red when it is a
 * worsening, grey when it includes zero. Improvement is by the metric's direction, not the sign.
 */
export function intervalColor(it: Interval): string {
  const above = it.low > 0, below = it.high < 0;
  const better = it.lowerIsBetter ? below : above;
  const worse = it.lowerIsBetter ? above : below;
  return better ? '#2e7d32' : worse ? '#c62828' : '#555';
}

/** A point with an error bar per entry, on an axis through zero (e.g. fine-tuned − base with 95 % CIs). */
export function intervalChartSvg(title: string, yLabel: string, items: readonly Interval[]): string {
  const { lo, hi, step } = niceRange(Math.min(...items.map((i) => i.low)), Math.max(...items.map((i) => i.high)));
  const ticks = ticksOf(lo, hi, step);
  const f = layout(items.map((i) => i.label), ticks.map((t) => tickLabel(t, step)));
  const y = (v: number): number => TOP + PLOT_H - ((v - lo) / (hi - lo)) * PLOT_H;
  const body: string[] = [];
  items.forEach((it, i) => {
    const cx = f.left + (i + 0.5) * f.slot;
    const cap = Math.min(8, f.slot * 0.2);
    const color = intervalColor(it);
    body.push(`<line x1="${r2(cx)}" x2="${r2(cx)}" y1="${r2(y(it.low))}" y2="${r2(y(it.high))}" stroke="${color}" stroke-width="2"/>`);
    for (const v of [it.low, it.high]) body.push(`<line x1="${r2(cx - cap)}" x2="${r2(cx + cap)}" y1="${r2(y(v))}" y2="${r2(y(v))}" stroke="${color}" stroke-width="2"/>`);
    body.push(`<circle cx="${r2(cx)}" cy="${r2(y(it.value))}" r="4" fill="${color}"/>`);
    body.push(`<text x="${r2(cx + cap + 3)}" y="${r2(y(it.value) + 4)}" font-size="10">${valueLabel(it.value, step)}</text>`);
  });
  const height = TOP + PLOT_H + f.bottom;
  return [...svgOpen(height, title), ...axes(f, yLabel, ticks, step, y), `<line x1="${f.left}" x2="${W - RIGHT}" y1="${r2(y(0))}" y2="${r2(y(0))}" stroke="#333"/>`, ...body, '</svg>', ''].join('\n');
}
