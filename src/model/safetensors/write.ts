import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsyncDir } from '../../core/atomic.js';
import { DTYPE_BYTES, numel, type HostTensor } from '../tensor.js';

/**
 * Writing safetensors files, byte-for-byte deterministic for the same tensors:
 * - header keys sorted by name (`__metadata__` first), JSON padded with spaces so the data
 *   section starts at a multiple of 8;
 * - data laid out by element width (widest first), then by name, so every tensor's offset is a
 *   multiple of its element size (the data tiles with no gaps, as the format requires) and a reader
 *   can view it zero-copy;
 * - written to a temp file beside the target, fsynced, renamed: a reader never sees a prefix.
 * Streams tensor by tensor, so files over Node's Buffer limit (> 4 GiB) are fine.
 */
export function writeSafetensors(path: string, tensors: Map<string, HostTensor>, metadata?: Record<string, string>): void {
  const { header, order } = layout(tensors, metadata);
  writeAtomicChunks(path, function* () {
    yield header;
    for (const name of order) {
      const t = tensors.get(name)!;
      yield new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    }
  });
}

/** Size in bytes of the file writeSafetensors would write. */
export function safetensorsFileSize(tensors: Map<string, HostTensor>, metadata?: Record<string, string>): number {
  const { header, order } = layout(tensors, metadata);
  let size = header.byteLength;
  for (const name of order) size += tensors.get(name)!.data.byteLength;
  return size;
}

function layout(tensors: Map<string, HostTensor>, metadata?: Record<string, string>): { header: Uint8Array; order: string[] } {
  const names = [...tensors.keys()];
  for (const name of names) {
    if (name === '__metadata__') throw new RangeError('writeSafetensors: "__metadata__" is reserved and cannot name a tensor');
    const t = tensors.get(name)!;
    const n = numel(t.shape);
    if (t.data.length !== n || t.data.byteLength !== n * DTYPE_BYTES[t.dtype]) {
      throw new RangeError(`writeSafetensors: tensor "${name}" has ${t.data.length} ${t.dtype} values for shape [${t.shape.join(', ')}]`);
    }
  }
  const order = [...names].sort((a, b) => DTYPE_BYTES[tensors.get(b)!.dtype] - DTYPE_BYTES[tensors.get(a)!.dtype] || cmp(a, b));
  const entries: Record<string, unknown> = {};
  let offset = 0;
  const offsets = new Map<string, [number, number]>();
  for (const name of order) {
    const bytes = tensors.get(name)!.data.byteLength;
    offsets.set(name, [offset, offset + bytes]);
    offset += bytes;
  }
  if (metadata && Object.keys(metadata).length > 0) {
    entries.__metadata__ = Object.fromEntries(Object.keys(metadata).sort(cmp).map((k) => [k, metadata[k]]));
  }
  for (const name of [...names].sort(cmp)) {
    const t = tensors.get(name)!;
    entries[name] = { dtype: t.dtype, shape: t.shape, data_offsets: offsets.get(name) };
  }
  let json = JSON.stringify(entries);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + jsonBytes) % 8)) % 8);
  const headerJson = Buffer.from(json, 'utf8');
  const header = new Uint8Array(8 + headerJson.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(headerJson.byteLength), true);
  header.set(headerJson, 8);
  return { header, order };
}

/** Code-unit order, the same in every locale (localeCompare is not). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Streams chunks into a temp file beside `path`, fsyncs it and renames it into place. */
export function writeAtomicChunks(path: string, chunks: () => Iterable<Uint8Array>): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    for (const chunk of chunks()) {
      let off = 0;
      while (off < chunk.byteLength) off += writeSync(fd, chunk, off, Math.min(chunk.byteLength - off, 1 << 30));
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dir);
}
