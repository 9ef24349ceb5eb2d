import { writeChunksAtomic } from '../../core/atomic.js';
import { DTYPE_BYTES, numel, type DType, type HostTensor } from '../tensor.js';
import { InternalError } from '../../core/errors.js';

/**
 * A tensor made only when the writer reaches it (e.g. seeded init of a 1.1B model), so a whole
 * checkpoint never has to sit in memory: the writer holds one tensor at a time.
 */
export interface LazyTensor {
  dtype: DType;
  shape: number[];
  load(): HostTensor;
}

/** What the writers accept: tensors in memory, lazy ones, or a mix. */
export type TensorSource = Map<string, HostTensor | LazyTensor>;

export function isLazyTensor(t: HostTensor | LazyTensor): t is LazyTensor {
  return typeof (t as LazyTensor).load === 'function';
}

/** Bytes of a tensor's data, without loading a lazy one. */
export function tensorBytes(t: HostTensor | LazyTensor): number {
  return numel(t.shape) * DTYPE_BYTES[t.dtype];
}

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
export function writeSafetensors(path: string, tensors: TensorSource, metadata?: Record<string, string>): void {
  const { header, order } = layout(tensors, metadata);
  writeChunksAtomic(path, (function* () {
    yield header;
    for (const name of order) {
      const spec = tensors.get(name)!;
      const t = isLazyTensor(spec) ? spec.load() : spec;
      if (isLazyTensor(spec)) checkTensor(name, t, spec);
      yield new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    }
  })());
}

/** Size in bytes of the file writeSafetensors would write. */
export function safetensorsFileSize(tensors: TensorSource, metadata?: Record<string, string>): number {
  const { header, order } = layout(tensors, metadata);
  let size = header.byteLength;
  for (const name of order) size += tensorBytes(tensors.get(name)!);
  return size;
}

function checkTensor(name: string, t: HostTensor, spec?: LazyTensor): void {
  const n = numel(t.shape);
  if (t.data.length !== n || t.data.byteLength !== n * DTYPE_BYTES[t.dtype]) {
    throw new InternalError(`writeSafetensors: tensor "${name}" has ${t.data.length} ${t.dtype} values for shape [${t.shape.join(', ')}]`);
  }
  if (spec && (spec.dtype !== t.dtype || spec.shape.length !== t.shape.length || spec.shape.some((d, i) => d !== t.shape[i]))) {
    throw new InternalError(`writeSafetensors: lazy tensor "${name}" loaded as ${t.dtype} [${t.shape.join(', ')}], announced ${spec.dtype} [${spec.shape.join(', ')}]`);
  }
}

function layout(tensors: TensorSource, metadata?: Record<string, string>): { header: Uint8Array; order: string[] } {
  const names = [...tensors.keys()];
  for (const name of names) {
    if (name === '__metadata__') throw new InternalError('writeSafetensors: "__metadata__" is reserved and cannot name a tensor');
    const t = tensors.get(name)!;
    if (!isLazyTensor(t)) checkTensor(name, t);
  }
  const order = [...names].sort((a, b) => DTYPE_BYTES[tensors.get(b)!.dtype] - DTYPE_BYTES[tensors.get(a)!.dtype] || cmp(a, b));
  const entries: Record<string, unknown> = {};
  let offset = 0;
  const offsets = new Map<string, [number, number]>();
  for (const name of order) {
    const bytes = tensorBytes(tensors.get(name)!);
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

