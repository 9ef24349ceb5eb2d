import type { RunEvent } from '../../engine/events.js';

/** What every reporter implements (the kinds and their factory: index.ts). */
export interface Reporter {
  onEvent(event: RunEvent): void;
  /** Flushes and waits for the renderer to finish. */
  close(): Promise<void>;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The last line of a run: `ok: 3 ran, 5 cached, 0 failed, 0 skipped in 21.4 s`; a dry run says what would run. */
export function runEndLine(e: Extract<RunEvent, { type: 'run-end' }>): string {
  const c = e.counts;
  if (e.wouldRun !== undefined) return `dry run: ${e.wouldRun} would run, ${c.cached} cached${c.skipped ? `, ${c.skipped} skipped` : ''} (nothing was run)`;
  return `${e.status}: ${c.ran} ran, ${c.cached} cached, ${c.failed} failed, ${c.skipped} skipped${c.cancelled ? `, ${c.cancelled} cancelled` : ''} in ${formatDuration(e.durationMs)}`;
}

export function shortKey(key: string): string {
  return key.slice(0, 12);
}
