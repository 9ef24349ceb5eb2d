import { DataError } from '../../core/errors.js';
import { DTYPE_BYTES, type DType } from '../tensor.js';

/**
 * The safetensors header: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON
 * `{ "__metadata__"?: {str: str}, name: { dtype, shape, data_offsets: [begin, end] } }`, then the
 * data. Offsets are relative to the start of the data and, sorted, must tile it exactly (no gaps,
 * no overlaps, nothing after the last tensor) — the same rules as the reference Rust reader.
 * Every check here runs before a single data byte is touched, so a hostile file is refused
 * instead of causing an out-of-bounds read.
 */
export interface TensorEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Byte offsets relative to the start of the data section: [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Bytes before the data section: 8 + header length. */
  dataStart: number;
  /** Byte length of the data section. */
  dataLength: number;
  /** Tensors in header key order (sorted by name for files we write). */
  tensors: TensorEntry[];
  metadata: Record<string, string>;
}

/** Same cap as the reference implementation: a header over 100 MB is refused, not parsed. */
export const MAX_HEADER_BYTES = 100_000_000;

const DTYPES = new Set<string>(Object.keys(DTYPE_BYTES));

/** Reads the header length from the first 8 bytes and checks it against the file size. */
export function headerLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw bad(file, `file is ${fileSize} bytes, too short for the 8-byte header length`);
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw bad(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (n < 2n) throw bad(file, `header length ${n} is too small for a JSON object`);
  if (Number(n) > fileSize - 8) throw bad(file, `header length ${n} runs past the end of the file (${fileSize} bytes): truncated or not a safetensors file`);
  return Number(n);
}

/** Parses and validates the JSON header bytes. `fileSize` bounds every data offset. */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const dataStart = 8 + headerBytes.byteLength;
  const dataLength = fileSize - dataStart;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw bad(file, `header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad(file, 'header must be a JSON object');
  const metadata: Record<string, string> = {};
  const tensors: TensorEntry[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(file, '"__metadata__" must be an object of strings');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') throw bad(file, `"__metadata__.${k}" must be a string`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.push(parseEntry(name, value, dataLength, file));
  }
  checkTiling(tensors, dataLength, file);
  return { dataStart, dataLength, tensors, metadata };
}

function parseEntry(name: string, value: unknown, dataLength: number, file: string): TensorEntry {
  const where = `tensor "${name}"`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(file, `${where}: entry must be an object`);
  const e = value as Record<string, unknown>;
  if (typeof e.dtype !== 'string' || !DTYPES.has(e.dtype)) {
    throw bad(file, `${where}: unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${[...DTYPES].join(', ')})`);
  }
  const dtype = e.dtype as DType;
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw bad(file, `${where}: shape must be an array of non-negative integers, got ${JSON.stringify(e.shape)}`);
  }
  const shape = e.shape as number[];
  const offsets = e.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
    throw bad(file, `${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw bad(file, `${where}: data_offsets [${begin}, ${end}] end before begin`);
  if (end > dataLength) throw bad(file, `${where}: data_offsets [${begin}, ${end}] run past the data section (${dataLength} bytes): truncated file?`);
  let elements = 1;
  for (const d of shape) elements *= d;
  const bytes = elements * DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(bytes) || bytes !== end - begin) {
    throw bad(file, `${where}: shape [${shape.join(', ')}] × ${dtype} needs ${bytes} bytes but data_offsets span ${end - begin}`);
  }
  return { name, dtype, shape, begin, end };
}

/** Sorted by offset, tensors must cover [0, dataLength) exactly. */
function checkTiling(tensors: TensorEntry[], dataLength: number, file: string): void {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const t of sorted) {
    if (t.begin < pos) throw bad(file, `tensor "${t.name}": data_offsets [${t.begin}, ${t.end}] overlap the previous tensor (ends at ${pos})`);
    if (t.begin > pos) throw bad(file, `tensor "${t.name}": gap in the data section before offset ${t.begin} (previous tensor ends at ${pos})`);
    pos = t.end;
  }
  if (pos !== dataLength) throw bad(file, `data section is ${dataLength} bytes but tensors cover only ${pos}: trailing bytes or missing tensors`);
}

function bad(file: string, message: string): DataError {
  return new DataError('bad-safetensors', `${file}: ${message}`, { location: { file } });
}
