import { failureOf, formatLocation, PolypersonaError, unreachable, type Failure } from '../core/errors.js';
import { redactSecrets } from '../core/secrets.js';
import type { CliIO } from './io.js';

/** One CLI command: its one-line summary, its --help text, and what it does. */
export interface Command {
  summary: string;
  usage: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

/** Exit codes: 0 ok, 1 a stage (or the work) failed, 2 usage or validation error, 130 cancelled. */
export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

/** The exit code of a failure: the one place that maps kinds to codes (exhaustive: a new kind does not compile until it is placed here). */
export function exitCodeOf(failure: Failure): number {
  switch (failure.kind) {
    case 'user':
    case 'data':
      return EXIT.usage;
    case 'stage':
    case 'internal':
    case 'unexpected':
      return EXIT.failed;
    case 'cancelled':
      return EXIT.cancelled;
    default:
      return unreachable(failure);
  }
}

/** One paragraph for the user; the stack only with --verbose; known secrets redacted (core/secrets.ts). */
export function formatError(err: unknown, verbose: boolean): string {
  return redactSecrets(formatFailure(failureOf(err), verbose));
}

function formatFailure(failure: Failure, verbose: boolean): string {
  switch (failure.kind) {
    case 'user':
    case 'data':
    case 'stage': {
      const err = failure.error;
      const where = formatLocation(err.location);
      const text = where && !err.message.includes(where) ? `${where}: ${err.message}` : err.message;
      return `error: ${text}${verbose && err.stack ? `\n${err.stack}` : ''}`;
    }
    case 'internal':
      return `internal error (a bug, please report it): ${failure.error.message}${verbose ? `\n${failure.error.stack}` : '\n(run with --verbose for details)'}`;
    case 'cancelled':
    case 'unexpected': {
      const err = failure.error;
      if (err instanceof PolypersonaError) return formatFailure(failureOf(err), verbose);
      if (err instanceof Error) return `internal error: ${err.message}${verbose ? `\n${err.stack}` : '\n(run with --verbose for details)'}`;
      return `internal error: ${String(err)}`;
    }
    default:
      return unreachable(failure);
  }
}
