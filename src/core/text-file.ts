/**
 * Reading a text file a user handed us (a pipeline, a predictions file) without trusting it:
 *
 * - only a regular file is read: a FIFO, a device or a socket would block or never end, so it
 *   is opened with O_NONBLOCK (opening a FIFO then cannot wait for a writer), checked with
 *   fstat, and refused;
 * - a size limit is checked before anything is read (fstat), and again while reading (a file
 *   that grows meanwhile is cut at the limit and refused);
 * - the bytes must be UTF-8: Node would silently turn a Latin-1 `é` into U+FFFD, so the first
 *   invalid byte is reported with its offset and line;
 * - NUL bytes can be refused (a binary file given where text belongs).
 *
 * Every refusal is a DataError (exit 2) naming the file.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { DataError } from './errors.js';

export interface TextFileLimits {
  /** Largest accepted size in bytes. */
  maxBytes: number;
  /** What the file is, for messages: "pipeline file", "predictions file". */
  what: string;
  /** Refuse NUL bytes (binary data). Default false. */
  rejectNul?: boolean;
}

/** Reads `path` as UTF-8 text within `limits`; throws a DataError naming the file otherwise. */
export function readTextFile(path: string, limits: TextFileLimits): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new DataError('file-unreadable', `cannot read ${limits.what} ${path}: ${reason}`, { location: { file: path }, cause: err });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new DataError('not-a-file', `cannot read ${limits.what} ${path}: it is ${kindOf(stat)}, not a regular file`, { location: { file: path } });
    }
    if (stat.size > limits.maxBytes) throw tooBig(path, limits);
    // One byte more than the limit tells a file that grew past it since fstat.
    const buf = Buffer.allocUnsafe(Math.min(stat.size, limits.maxBytes) + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > limits.maxBytes) throw tooBig(path, limits);
      if (length === buf.length) break;
    }
    return decodeUtf8(buf.subarray(0, length), path, limits);
  } finally {
    closeSync(fd);
  }
}

/** UTF-8 text of `bytes`, or a DataError at the first invalid byte (or NUL, with rejectNul). */
export function decodeUtf8(bytes: Buffer, path: string, limits: Pick<TextFileLimits, 'what' | 'rejectNul'>): string {
  if (limits.rejectNul) {
    const nul = bytes.indexOf(0);
    if (nul >= 0) {
      throw new DataError('binary-file', `${path}:${lineAt(bytes, nul)}: ${limits.what} holds a NUL byte at byte offset ${nul}; it is binary, not text`, {
        location: { file: path, line: lineAt(bytes, nul) },
      });
    }
  }
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    const line = lineAt(bytes, at);
    const shown = [...bytes.subarray(at, at + 4)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
    throw new DataError(
      'invalid-utf8',
      `${path}:${line}: ${limits.what} is not valid UTF-8 at byte offset ${at} (bytes ${shown}); save it as UTF-8 (a Latin-1 or truncated file?)`,
      { location: { file: path, line } },
    );
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

function tooBig(path: string, limits: TextFileLimits): DataError {
  return new DataError('file-too-large', `${limits.what} ${path} is larger than the limit of ${formatBytes(limits.maxBytes)}`, { location: { file: path } });
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)} KiB`;
  return `${n} bytes`;
}

function kindOf(stat: import('node:fs').Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a regular file';
}
