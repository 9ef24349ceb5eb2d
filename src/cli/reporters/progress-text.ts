import type { RunEvent } from '../../engine/events.js';
import { formatDuration } from './reporter.js';

type ProgressEvent = Extract<RunEvent, { type: 'stage-progress' }>;

/** Cells of the live view's bar. */
const BAR_WIDTH = 20;

/** `████████░░░░░░░░░░░░` for done of total; empty without a total. */
export function progressBar(done: number, total: number | undefined, width = BAR_WIDTH): string {
  if (!total || total <= 0) return '';
  const filled = Math.max(0, Math.min(width, Math.round((done / total) * width)));
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

/** A one-word note names the unit (`records`, `bytes`); anything longer is a detail (`loss 2.31`). */
function unitOf(note: string | undefined): { unit?: string; detail?: string } {
  if (!note) return {};
  return /^[a-z]+$/i.test(note) ? { unit: note } : { detail: note };
}

function count(n: number, unit: string | undefined): string {
  if (unit === 'bytes') return formatBytes(n);
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(2)} GiB`;
}

export function formatRate(rate: number, unit: string | undefined): string {
  if (unit === 'bytes') return `${formatBytes(rate)}/s`;
  const shown = rate >= 100 ? rate.toFixed(0) : rate >= 10 ? rate.toFixed(1) : rate.toFixed(2);
  return `${shown} ${unit ?? 'it'}/s`;
}

export function formatEta(ms: number): string {
  return `ETA ${formatDuration(Math.max(0, Math.round(ms / 1000) * 1000))}`;
}

/**
 * The figures of one progress event: `120/300 steps · 2.10 steps/s · ETA 57.0 s · loss 2.31`
 * (counts, rate and ETA only when known). `withBar` prefixes the bar (the live view).
 */
export function progressText(e: ProgressEvent, withBar: boolean): string {
  const { unit, detail } = unitOf(e.note);
  const parts: string[] = [];
  const of = e.total !== undefined ? `${count(e.done, unit)}/${count(e.total, unit)}` : count(e.done, unit);
  parts.push(unit && unit !== 'bytes' ? `${of} ${unit}` : of);
  if (e.rate !== undefined && e.rate > 0) parts.push(formatRate(e.rate, unit));
  if (e.etaMs !== undefined && e.done !== e.total) parts.push(formatEta(e.etaMs));
  if (detail) parts.push(detail);
  const bar = withBar ? progressBar(e.done, e.total) : '';
  return `${bar ? `${bar} ` : ''}${parts.join(' · ')}`;
}
