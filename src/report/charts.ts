/**
 * Minimal deterministic SVG charts (no dependencies): a bar chart (Figure 4: BLEU per model) and
 * box plots (Figure 5: answer length per domain). Coordinates are rounded to 0.01 px so the same
 * data gives byte-identical files.
 */
import { latexEscape } from './tables.js';


const W = 720;
const H = 400;
const M = { top: 40, right: 20, bottom: 110, left: 60 };
const COLOR = '#4e79a7';

const r2 = (x: number): string => (Math.round(x * 100) / 100).toString();

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" axis maximum and tick step covering `max`. */
export function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step - 1e-9) * step, step };
}

function frame(title: string, yLabel: string, top: number, step: number, body: string[]): string {
  const plotH = H - M.top - M.bottom;
  const y = (v: number): number => M.top + plotH - (v / top) * plotH;
  const ticks: string[] = [];
  for (let v = 0; v <= top + step / 2; v += step) {
    ticks.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${r2(y(v))}" y2="${r2(y(v))}" stroke="#ddd"/>`);
    ticks.push(`<text x="${M.left - 6}" y="${r2(y(v) + 4)}" text-anchor="end" font-size="11">${xmlEscape(Number(v.toPrecision(6)).toString())}</text>`);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${xmlEscape(title)}</text>`,
    `<text x="16" y="${M.top + plotH / 2}" transform="rotate(-90 16 ${M.top + plotH / 2})" text-anchor="middle" font-size="12">${xmlEscape(yLabel)}</text>`,
    ...ticks,
    ...body,
    `<line x1="${M.left}" x2="${W - M.right}" y1="${r2(y(0))}" y2="${r2(y(0))}" stroke="#333"/>`,
    '</svg>',
    '',
  ].join('\n');
}

function xLabel(x: number, text: string): string {
  const yPos = H - M.bottom + 14;
  return `<text x="${r2(x)}" y="${yPos}" transform="rotate(-35 ${r2(x)} ${yPos})" text-anchor="end" font-size="11">${xmlEscape(text)}</text>`;
}

/** Vertical bars with value labels. */
export function barChartSvg(title: string, yLabel: string, bars: ReadonlyArray<{ label: string; value: number }>): string {
  const { top, step } = niceScale(Math.max(0, ...bars.map((b) => b.value)));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const slot = plotW / Math.max(1, bars.length);
  const body: string[] = [];
  bars.forEach((b, i) => {
    const h = (Math.max(0, b.value) / top) * plotH;
    const x = M.left + i * slot + slot * 0.15;
    const yTop = M.top + plotH - h;
    body.push(`<rect x="${r2(x)}" y="${r2(yTop)}" width="${r2(slot * 0.7)}" height="${r2(h)}" fill="${COLOR}"/>`);
    body.push(`<text x="${r2(x + slot * 0.35)}" y="${r2(yTop - 4)}" text-anchor="middle" font-size="11">${b.value.toFixed(3)}</text>`);
    body.push(xLabel(x + slot * 0.35, b.label));
  });
  return frame(title, yLabel, top, step, body);
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
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const y = (v: number): number => M.top + plotH - (v / top) * plotH;
  const slot = plotW / Math.max(1, stats.length);
  const body: string[] = [];
  stats.forEach(({ label, s }, i) => {
    const cx = M.left + i * slot + slot / 2;
    const half = slot * 0.3;
    if (s) {
      body.push(`<line x1="${r2(cx)}" x2="${r2(cx)}" y1="${r2(y(s.min))}" y2="${r2(y(s.max))}" stroke="#333"/>`);
      body.push(`<rect x="${r2(cx - half)}" y="${r2(y(s.q3))}" width="${r2(2 * half)}" height="${r2(y(s.q1) - y(s.q3))}" fill="${COLOR}" fill-opacity="0.6" stroke="#333"/>`);
      body.push(`<line x1="${r2(cx - half)}" x2="${r2(cx + half)}" y1="${r2(y(s.median))}" y2="${r2(y(s.median))}" stroke="#111" stroke-width="2"/>`);
      for (const v of [s.min, s.max]) body.push(`<line x1="${r2(cx - half / 2)}" x2="${r2(cx + half / 2)}" y1="${r2(y(v))}" y2="${r2(y(v))}" stroke="#333"/>`);
    }
    body.push(xLabel(cx, `${label} (n=${s?.n ?? 0})`));
  });
  return frame(title, yLabel, top, step, body);
}
