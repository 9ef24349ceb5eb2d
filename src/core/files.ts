/**
 * Reading a user's or an upstream stage's file: a missing or unreadable file, or a JSON file that
 * does not parse, is a DataError naming the file (never a bare ENOENT or SyntaxError), so every
 * reader in the project says the same thing for the same mistake.
 *
 * A text file is also read without trusting it (issue 11):
 * - only a regular file is read: a FIFO, a device or a socket would block or never end, so it is
 *   opened with O_NONBLOCK (opening a FIFO then cannot wait for a writer), checked with fstat,
 *   and refused; a directory is refused the same way (not a raw EISDIR);
 * - an optional size limit is checked before anything is read (fstat), and again while reading
 *   (a file that grows meanwhile is cut at the limit and refused);
 * - the bytes must be UTF-8: Node would silently turn a Latin-1 `é` into U+FFFD, so the first
 *   invalid byte is reported with its byte offset and line;
 * - a NUL byte means binary data, not text (JSON, JSONL, YAML and CSV never hold one raw).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { DataError } from './errors.js';

export interface TextFileOptions {
  /** Largest accepted size in bytes (default: no limit but memory's). */
  maxBytes?: number;
  /** Accept NUL bytes. Default false. */
  allowNul?: boolean;
}

/**
 * A UTF-8 text file. `what` names it in the message (`predictions file`); without it the message
 * is `FILE: cannot read (no such file)`.
 */
export function readTextFile(file: string, what?: string, options: TextFileOptions = {}): string {
  const named = what ? ` ${what}` : '';
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code ?? (err as Error).message;
    throw new DataError('missing-file', `${file}: cannot read${named} (${reason})`, { cause: err, location: { file } });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new DataError('not-a-file', `${file}: cannot read${named}: it is ${kindOf(stat)}, not a regular file`, { location: { file } });
    }
    const max = options.maxBytes ?? Infinity;
    if (stat.size > max) throw tooLarge(file, named, max);
    // One byte more than the limit tells a file that grew past it since fstat.
    const buf = Buffer.allocUnsafe(Math.min(stat.size, max) + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > max) throw tooLarge(file, named, max);
      if (length === buf.length) break;
    }
    return decodeUtf8(buf.subarray(0, length), file, what ?? 'the file', options.allowNul === true);
  } finally {
    closeSync(fd);
  }
}

/** A JSON file, parsed; not valid JSON is a DataError `FILE: not valid JSON (…)`. */
export function readJsonFile(file: string, what?: string, options: TextFileOptions = {}): unknown {
  const text = readTextFile(file, what, options);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new DataError('bad-json', `${file}: not valid JSON (${(err as Error).message})`, { cause: err, location: { file } });
  }
}

/** UTF-8 text of `bytes`, or a DataError at the first invalid byte (or NUL, unless allowed). */
function decodeUtf8(bytes: Buffer, file: string, what: string, allowNul: boolean): string {
  if (!allowNul) {
    const nul = bytes.indexOf(0);
    if (nul >= 0) {
      const line = lineAt(bytes, nul);
      throw new DataError('binary-file', `${file}:${line}: ${what} holds a NUL byte at byte offset ${nul}; it is binary, not text`, { location: { file, line } });
    }
  }
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    const line = lineAt(bytes, at);
    const shown = [...bytes.subarray(at, at + 4)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
    throw new DataError('invalid-utf8', `${file}:${line}: ${what} is not valid UTF-8 at byte offset ${at} (bytes ${shown}); save it as UTF-8 (a Latin-1 or truncated file?)`, {
      location: { file, line },
    });
  }
  return bytes.toString('utf8');
}

/**
 * Offset of the first byte that does not start or continue a well-formed UTF-8 sequence
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF); bytes.length when valid.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return bytes.length;
}

/** 1-based line of a byte offset. */
function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

function tooLarge(file: string, named: string, max: number): DataError {
  return new DataError('file-too-large', `${file}: cannot read${named}: it is larger than the limit of ${formatBytes(max)}`, { location: { file } });
}

/** `1 MiB`, `64 KiB`, `300 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)} KiB`;
  return `${n} bytes`;
}

function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a regular file';
}
