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
  return (await reporterFactory(kind, io, verbose))();
}

/** Makes reporters of one kind without waiting (watch starts one per run, from an event). */
export async function reporterFactory(kind: ReporterKind, io: CliIO, verbose: boolean): Promise<() => Reporter> {
  switch (kind) {
    case 'json': {
      const { JsonReporter } = await import('./json.js');
      return () => new JsonReporter(io);
    }
    case 'plain': {
      const { PlainReporter } = await import('./plain.js');
      return () => new PlainReporter(io, verbose);
    }
    case 'tty': {
      const { ListrReporter } = await import('./listr.js');
      return () => new ListrReporter(io, verbose);
    }
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

/** The last line of a run: `ok: 3 ran, 5 cached, 0 failed, 0 skipped in 21.4 s`; a dry run says what would run. */
export function runEndLine(e: Extract<RunEvent, { type: 'run-end' }>): string {
  const c = e.counts;
  if (e.wouldRun !== undefined) return `dry run: ${e.wouldRun} would run, ${c.cached} cached${c.skipped ? `, ${c.skipped} skipped` : ''} (nothing was run)`;
  return `${e.status}: ${c.ran} ran, ${c.cached} cached, ${c.failed} failed, ${c.skipped} skipped${c.cancelled ? `, ${c.cancelled} cancelled` : ''} in ${formatDuration(e.durationMs)}`;
}

export function shortKey(key: string): string {
  return key.slice(0, 12);
}
