import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../core/errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Options every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
  'runs-dir': { type: 'string' },
} as const satisfies OptionSpec;

/**
 * Parses argv strictly: an unknown flag or a missing value is a usage error (exit 2) naming the
 * command, never a silent default.
 */
export function parseCommandArgs<O extends OptionSpec>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, '') : String(err);
    throw new UserError('usage', `${command}: ${message} (see \`polypersona ${command} --help\`)`);
  }
}

export function intOption(command: string, name: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UserError('usage', `${command}: --${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}
