/**
 * Reading a user's or an upstream stage's file: a missing or unreadable file, or a JSON file that
 * does not parse, is a DataError naming the file (never a bare ENOENT or SyntaxError), so every
 * reader in the project says the same thing for the same mistake.
 */
import { readFileSync } from 'node:fs';
import { DataError } from './errors.js';

/**
 * A UTF-8 text file. `what` names it in the message (`predictions file`); without it the message
 * is `FILE: cannot read (no such file)`.
 */
export function readTextFile(file: string, what?: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code ?? (err as Error).message;
    throw new DataError('missing-file', `${file}: cannot read${what ? ` ${what}` : ''} (${reason})`, { cause: err, location: { file } });
  }
}

/** A JSON file, parsed; not valid JSON is a DataError `FILE: not valid JSON (…)`. */
export function readJsonFile(file: string, what?: string): unknown {
  const text = readTextFile(file, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new DataError('bad-json', `${file}: not valid JSON (${(err as Error).message})`, { cause: err, location: { file } });
  }
}
