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

export function shortKey(key: string): string {
  return key.slice(0, 12);
}
