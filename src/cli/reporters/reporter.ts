import type { RunEvent } from '../../engine/events.js';
import type { CliIO } from '../io.js';

export interface Reporter {
  onEvent(event: RunEvent): void;
  /** Flushes and waits for the renderer to finish. */
  close(): Promise<void>;
}

export type ReporterKind = 'tty' | 'plain' | 'json';

/** listr2 on a terminal; plain lines when stdout is not a TTY or CI is set; JSON lines with --json. */
export function chooseReporter(io: CliIO, json: boolean): ReporterKind {
  if (json) return 'json';
  if (!io.stdout.isTTY || io.env.CI) return 'plain';
  return 'tty';
}

export async function createReporter(kind: ReporterKind, io: CliIO, verbose: boolean): Promise<Reporter> {
  switch (kind) {
    case 'json':
      return new (await import('./json.js')).JsonReporter(io);
    case 'plain':
      return new (await import('./plain.js')).PlainReporter(io, verbose);
    case 'tty':
      return new (await import('./listr.js')).ListrReporter(io, verbose);
    default: {
      const never: never = kind;
      throw new Error(`unknown reporter ${String(never)}`);
    }
  }
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
