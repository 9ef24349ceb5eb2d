import { formatLocation, PolypersonaError } from '../core/errors.js';
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

/** One paragraph for the user; the stack only with --verbose; known secrets redacted (core/secrets.ts). */
export function formatError(err: unknown, verbose: boolean): string {
  return redactSecrets(formatErrorText(err, verbose));
}

function formatErrorText(err: unknown, verbose: boolean): string {
  if (err instanceof PolypersonaError) {
    const where = formatLocation(err.location);
    const text = where && !err.message.includes(where) ? `${where}: ${err.message}` : err.message;
    return `error: ${text}${verbose && err.stack ? `\n${err.stack}` : ''}`;
  }
  if (err instanceof Error) {
    return `internal error: ${err.message}${verbose ? `\n${err.stack}` : '\n(run with --verbose for details)'}`;
  }
  return `internal error: ${String(err)}`;
}
