/**
 * The loss curve of a run as a small standalone SVG: training loss per logged step and val loss
 * where evaluated, on shared axes. Deterministic text (fixed precision) so the artifact hashes
 * the same for the same log.
 */
import type { LogEntry } from './checkpoint.js';
import { niceScale } from '../report/charts.js';

/** Tick positions on the step axis: a nice whole step (1, 2, 5, 10, 20, 25, 50, …) from 0 to at most maxStep. */
export function stepTicks(maxStep: number): number[] {
  let step = niceScale(maxStep).step;
  if (step < 1) step = 1;
  else if (!Number.isInteger(step)) step *= 2; // 2.5 → 5: optimizer steps are whole
  const out: number[] = [];
  for (let s = 0; s <= maxStep + 1e-9; s += step) out.push(s);
  return out;
}

export function lossCurveSvg(history: LogEntry[], title = 'lora-train loss'): string {
  const W = 640, Hh = 360, left = 56, right = 16, top = 32, bottom = 40;
  const train = history.filter((e) => e.loss !== undefined).map((e) => [e.step, e.loss!] as const);
  const val = history.filter((e) => e.eval_loss !== undefined).map((e) => [e.step, e.eval_loss!] as const);
  const all = [...train, ...val];
  const maxStep = Math.max(1, ...all.map((p) => p[0]));
  const ys = all.map((p) => p[1]);
  const yMin = ys.length ? Math.min(...ys) : 0, yMax = ys.length ? Math.max(...ys) : 1;
  const span = yMax - yMin || 1;
  const x = (s: number) => (left + ((W - left - right) * s) / maxStep).toFixed(1);
  const y = (v: number) => (top + ((Hh - top - bottom) * (yMax - v)) / span).toFixed(1);
  const path = (pts: ReadonlyArray<readonly [number, number]>) => pts.map((p, i) => `${i ? 'L' : 'M'}${x(p[0])},${y(p[1])}`).join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => yMin + f * span);
  const xTicks = stepTicks(maxStep);
  const axisY = Hh - bottom;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Hh}" viewBox="0 0 ${W} ${Hh}" font-family="sans-serif" font-size="11">`,
    `<title>${title}</title>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${title}</text>`,
    `<line x1="${left}" y1="${Hh - bottom}" x2="${W - right}" y2="${Hh - bottom}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${Hh - bottom}" stroke="#333"/>`,
    ...ticks.map((v) => `<line x1="${left - 4}" y1="${y(v)}" x2="${left}" y2="${y(v)}" stroke="#333"/>`),
    ...ticks.map((v) => `<text x="${left - 6}" y="${y(v)}" text-anchor="end" dominant-baseline="middle">${v.toFixed(3)}</text>`),
    ...xTicks.map((s) => `<line x1="${x(s)}" y1="${axisY}" x2="${x(s)}" y2="${axisY + 4}" stroke="#333"/>`),
    ...xTicks.map((s) => `<text x="${x(s)}" y="${axisY + 15}" text-anchor="middle">${s}</text>`),
    `<text x="${W / 2}" y="${Hh - 6}" text-anchor="middle">optimizer step (of ${maxStep})</text>`,
    train.length ? `<path d="${path(train)}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>` : '',
    val.length ? `<path d="${path(val)}" fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="4 3"/>` : '',
    ...val.map((p) => `<circle cx="${x(p[0])}" cy="${y(p[1])}" r="2.5" fill="#d62728"/>`),
    `<text x="${W - right - 120}" y="${top + 4}" fill="#1f77b4">— train loss</text>`,
    val.length ? `<text x="${W - right - 120}" y="${top + 18}" fill="#d62728">- - val loss</text>` : '',
    '</svg>',
    '',
  ].filter((l) => l !== '').join('\n');
}
