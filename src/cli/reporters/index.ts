/**
 * Choosing and making a reporter. The factory lives apart from the Reporter contract
 * (reporter.ts) so that the reporters import the contract and the factory imports them, one way.
 */
import type { CliIO } from '../io.js';
import type { Reporter } from './reporter.js';
import { unreachable } from '../../core/errors.js';

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
      return unreachable(kind);
    }
  }
}
