import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { DataError, InternalError } from '../../core/errors.js';
import { DTYPE_BYTES, type DType, type HostTensor, type TensorData } from '../tensor.js';
import { headerLength, parseHeader, type SafetensorsHeader, type TensorEntry } from './header.js';

/**
 * Reading safetensors files. Two paths:
 * - `readSafetensors` (files up to WHOLE_FILE_LIMIT): one read of the whole file into a Buffer;
 *   each tensor is a typed-array view over it when its absolute offset is a multiple of the
 *   element size (always, for files we write), else a copy.
 * - `openSafetensors` / larger files: the header is read alone, then each tensor is read into its
 *   own typed array on demand (Node cannot hold a > 2 GiB file in one readFileSync).
 * The host is assumed little-endian (x86-64, arm64), like safetensors itself.
 */
export const WHOLE_FILE_LIMIT = 1 << 30;

export interface SafetensorsContents {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

/** Reads only the header: names, dtypes, shapes, offsets, metadata. Cheap for any file size. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openOrThrow(path);
  try {
    return readHeaderFd(fd, path);
  } finally {
    closeSync(fd);
  }
}

/** Reads every tensor of a file (one read up to `wholeFileLimit` bytes, else tensor by tensor). */
export function readSafetensors(path: string, options: { wholeFileLimit?: number } = {}): SafetensorsContents {
  const fd = openOrThrow(path);
  let size: number;
  try {
    size = fstatSync(fd).size;
    if (size > (options.wholeFileLimit ?? WHOLE_FILE_LIMIT)) {
      const header = readHeaderFd(fd, path);
      const tensors = new Map<string, HostTensor>();
      for (const entry of header.tensors) tensors.set(entry.name, readEntryFd(fd, header, entry, path));
      return { tensors, metadata: header.metadata };
    }
  } finally {
    closeSync(fd);
  }
  return parseSafetensorsBuffer(readFileSync(path), path);
}

/** Parses a whole safetensors file held in memory; tensors view `buf` where aligned. */
export function parseSafetensorsBuffer(buf: Buffer | Uint8Array, file: string): SafetensorsContents {
  const n = headerLength(buf.subarray(0, 8), buf.byteLength, file);
  const header = parseHeader(buf.subarray(8, 8 + n), buf.byteLength, file);
  const tensors = new Map<string, HostTensor>();
  for (const e of header.tensors) {
    const bytes = buf.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: typedView(e.dtype, bytes) });
  }
  return { tensors, metadata: header.metadata };
}

/** A file whose tensors are read one at a time (for listing or for models too big to hold twice). */
export class SafetensorsFile {
  readonly header: SafetensorsHeader;
  private readonly byName: Map<string, TensorEntry>;
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.fd = openOrThrow(path);
    try {
      this.header = readHeaderFd(this.fd, path);
    } catch (err) {
      this.close();
      throw err;
    }
    this.byName = new Map(this.header.tensors.map((t) => [t.name, t]));
  }

  get names(): string[] {
    return this.header.tensors.map((t) => t.name);
  }

  entry(name: string): TensorEntry | undefined {
    return this.byName.get(name);
  }

  read(name: string): HostTensor {
    const entry = this.byName.get(name);
    if (!entry) throw new DataError('missing-tensor', `${this.path}: no tensor "${name}"`, { location: { file: this.path } });
    if (this.fd === undefined) throw new InternalError(`SafetensorsFile ${this.path} is closed`);
    return readEntryFd(this.fd, this.header, entry, this.path);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export function openSafetensors(path: string): SafetensorsFile {
  return new SafetensorsFile(path);
}

function readHeaderFd(fd: number, path: string): SafetensorsHeader {
  const size = fstatSync(fd).size;
  const prefix = Buffer.alloc(8);
  readFully(fd, prefix, 0);
  const n = headerLength(prefix, size, path);
  const headerBytes = Buffer.alloc(n);
  readFully(fd, headerBytes, 8);
  return parseHeader(headerBytes, size, path);
}

function readEntryFd(fd: number, header: SafetensorsHeader, e: TensorEntry, path: string): HostTensor {
  const bytes = new Uint8Array(e.end - e.begin);
  const got = readFully(fd, bytes, header.dataStart + e.begin);
  if (got !== bytes.byteLength) {
    throw new DataError('bad-safetensors', `${path}: tensor "${e.name}": file ended after ${got} of ${bytes.byteLength} bytes (changed while reading?)`, { location: { file: path } });
  }
  return { dtype: e.dtype, shape: e.shape, data: typedView(e.dtype, bytes) };
}

/** Reads into `into` from `position`, in chunks below the 2 GiB readSync limit; returns bytes read. */
function readFully(fd: number, into: Uint8Array, position: number): number {
  const CHUNK = 1 << 30;
  let done = 0;
  while (done < into.byteLength) {
    const n = readSync(fd, into, done, Math.min(CHUNK, into.byteLength - done), position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** A typed array over `bytes`: a view when aligned, else over a fresh aligned copy. */
export function typedView(dtype: DType, bytes: Uint8Array): TensorData {
  const width = DTYPE_BYTES[dtype];
  const src = bytes.byteOffset % width === 0 ? bytes : new Uint8Array(bytes);
  const n = src.byteLength / width;
  switch (dtype) {
    case 'F32': return new Float32Array(src.buffer, src.byteOffset, n);
    case 'F64': return new Float64Array(src.buffer, src.byteOffset, n);
    case 'F16':
    case 'BF16': return new Uint16Array(src.buffer, src.byteOffset, n);
    case 'I8': return new Int8Array(src.buffer, src.byteOffset, n);
    case 'U8': return new Uint8Array(src.buffer, src.byteOffset, n);
    case 'I32': return new Int32Array(src.buffer, src.byteOffset, n);
    case 'I64': return new BigInt64Array(src.buffer, src.byteOffset, n);
  }
}

function openOrThrow(path: string): number {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError('missing-file', `${path}: cannot open safetensors file (${code ?? (err as Error).message})`, { location: { file: path }, cause: err });
  }
  // A directory opens fine and fails only at the first read, as a raw EISDIR.
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw new DataError('missing-file', `${path}: a safetensors file was expected here, but this is ${stat.isDirectory() ? 'a directory' : 'not a regular file'}`, { location: { file: path } });
  }
  return fd;
}
