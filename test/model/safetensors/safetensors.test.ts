import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../../src/core/errors.js';
import { DTYPE_BYTES, type HostTensor } from '../../../src/model/tensor.js';
import {
  openSafetensors,
  parseSafetensorsBuffer,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
} from '../../../src/model/safetensors/index.js';
import { tempDir } from '../../helpers/stage-context.js';

/** Builds a safetensors file by hand (independent of the writer): header JSON, then raw data. */
function handMade(header: unknown, data: Uint8Array, padTo = 1): Buffer {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % padTo !== 0) json += ' ';
  const h = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, Buffer.from(data)]);
}

function sample(): Map<string, HostTensor> {
  return new Map<string, HostTensor>([
    ['w.f32', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -7]) }],
    ['w.f16', { dtype: 'F16', shape: [3], data: Uint16Array.from([0x3c00, 0xc000, 0x7bff]) }],
    ['w.bf16', { dtype: 'BF16', shape: [1, 2], data: Uint16Array.from([0x3f80, 0xbf80]) }],
    ['q.i8', { dtype: 'I8', shape: [5], data: Int8Array.from([-128, -1, 0, 1, 127]) }],
    ['q.u8', { dtype: 'U8', shape: [3], data: Uint8Array.from([0, 128, 255]) }],
    ['d.f64', { dtype: 'F64', shape: [2], data: Float64Array.from([Math.PI, -1e300]) }],
    ['ids.i32', { dtype: 'I32', shape: [2], data: Int32Array.from([-2147483648, 2147483647]) }],
    ['ids.i64', { dtype: 'I64', shape: [2], data: BigInt64Array.from([-(2n ** 63n), 2n ** 62n + 5n]) }],
    ['scalar', { dtype: 'F32', shape: [], data: Float32Array.from([42]) }],
    ['empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
  ]);
}

function expectSame(a: Map<string, HostTensor>, b: Map<string, HostTensor>): void {
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [name, t] of a) {
    const u = b.get(name)!;
    expect(u.dtype, name).toBe(t.dtype);
    expect(u.shape, name).toEqual(t.shape);
    expect(Array.from(u.data as ArrayLike<number | bigint>), name).toEqual(Array.from(t.data as ArrayLike<number | bigint>));
    expect(u.data.constructor, name).toBe(t.data.constructor);
  }
}

function expectDataError(fn: () => unknown, ...parts: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DataError);
  for (const p of parts) expect((caught as Error).message).toContain(p);
}

describe('safetensors write/read', () => {
  it('round-trips every dtype, scalars and empty tensors, with metadata', () => {
    const dir = tempDir();
    const path = join(dir, 'a.safetensors');
    writeSafetensors(path, sample(), { format: 'pt', note: 'hé' });
    const back = readSafetensors(path);
    expectSame(sample(), back.tensors);
    expect(back.metadata).toEqual({ format: 'pt', note: 'hé' });
  });

  it('reads large files tensor by tensor with the same result', () => {
    const path = join(tempDir(), 'big.safetensors');
    writeSafetensors(path, sample(), { format: 'pt' });
    const back = readSafetensors(path, { wholeFileLimit: 0 });
    expectSame(sample(), back.tensors);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(new Set([...back.tensors.values()].map((t) => t.data.buffer)).size).toBe(sample().size); // one buffer per tensor
  });

  it('writes the exact bytes of the format (sorted keys, space padding to 8)', () => {
    const dir = tempDir();
    const path = join(dir, 'b.safetensors');
    writeSafetensors(path, new Map([['b', { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) }], ['a', { dtype: 'U8', shape: [1], data: Uint8Array.from([9]) }]]));
    const json = '{"a":{"dtype":"U8","shape":[1],"data_offsets":[8,9]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const expected = handMade(json, Uint8Array.from([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 9]), 8);
    expect(readFileSync(path).equals(expected)).toBe(true);
  });

  it('is deterministic regardless of insertion order, and aligns every tensor', () => {
    const dir = tempDir();
    const forward = sample();
    const backward = new Map([...sample()].reverse());
    writeSafetensors(join(dir, '1.safetensors'), forward);
    writeSafetensors(join(dir, '2.safetensors'), backward);
    expect(readFileSync(join(dir, '1.safetensors')).equals(readFileSync(join(dir, '2.safetensors')))).toBe(true);
    const header = readSafetensorsHeader(join(dir, '1.safetensors'));
    expect(header.dataStart % 8).toBe(0);
    for (const t of header.tensors) expect((header.dataStart + t.begin) % DTYPE_BYTES[t.dtype], t.name).toBe(0);
  });

  it('returns zero-copy views over one buffer when aligned', () => {
    const dir = tempDir();
    const path = join(dir, 'z.safetensors');
    writeSafetensors(path, sample());
    const { tensors } = readSafetensors(path);
    const buffers = new Set([...tensors.values()].map((t) => t.data.buffer));
    expect(buffers.size).toBe(1);
  });

  it('copies tensors whose offsets are misaligned, values intact', () => {
    // Header padded to an odd length: the F32 data starts at an odd absolute offset.
    const data = new Uint8Array(new Float32Array([1.5, -2.25]).buffer);
    let json = JSON.stringify({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
    if ((8 + json.length) % 2 === 0) json += ' ';
    const buf = handMade(json, data);
    const { tensors } = parseSafetensorsBuffer(buf, 'mem.safetensors');
    expect(Array.from(tensors.get('x')!.data as Float32Array)).toEqual([1.5, -2.25]);
  });

  it('lists the header without reading data, and reads tensors one at a time', () => {
    const dir = tempDir();
    const path = join(dir, 'h.safetensors');
    writeSafetensors(path, sample());
    const header = readSafetensorsHeader(path);
    expect(header.tensors.map((t) => t.name).sort()).toEqual([...sample().keys()].sort());
    const file = openSafetensors(path);
    try {
      expectSame(new Map([['w.f16', sample().get('w.f16')!]]), new Map([['w.f16', file.read('w.f16')]]));
      expectDataError(() => file.read('nope'), path, 'nope');
    } finally {
      file.close();
    }
  });

  it('refuses tensors whose data does not match their shape', () => {
    expect(() => writeSafetensors(join(tempDir(), 'x.safetensors'), new Map([['x', { dtype: 'F32', shape: [3], data: new Float32Array(2) }]]))).toThrow(/"x"/);
  });
});

describe('safetensors hostile and broken files', () => {
  const f32 = (n: number) => new Uint8Array(n * 4);
  const cases: Array<[string, () => Buffer, string[]]> = [
    ['shorter than 8 bytes', () => Buffer.from([1, 2, 3]), ['too short']],
    ['header length beyond the file', () => { const b = handMade({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1)); b.writeBigUInt64LE(10_000n); return b; }, ['past the end']],
    ['huge header length', () => { const b = handMade({}, new Uint8Array(0)); b.writeBigUInt64LE(2n ** 63n); return b; }, ['exceeds']],
    ['non-JSON header', () => handMade('{"x": nope}', f32(1)), ['not valid UTF-8 JSON']],
    ['header not an object', () => handMade('[1,2]', new Uint8Array(0)), ['must be a JSON object']],
    ['unsupported dtype', () => handMade({ x: { dtype: 'BOOL', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), ['"x"', 'unsupported dtype']],
    ['shape × dtype ≠ byte length', () => handMade({ x: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, f32(3)), ['"x"', 'needs 16 bytes']],
    ['offsets past the data', () => handMade({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(2)), ['"x"', 'run past']],
    ['negative offsets', () => handMade({ x: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, f32(1)), ['"x"', 'data_offsets']],
    ['end before begin', () => handMade({ x: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } }, f32(1)), ['"x"', 'end before begin']],
    ['overlapping tensors', () => handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(3)), ['"b"', 'overlap']],
    ['gap between tensors', () => handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, f32(3)), ['"b"', 'gap']],
    ['trailing bytes', () => handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(2)), ['trailing bytes']],
    ['bad shape', () => handMade({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32(1)), ['"a"', 'shape']],
    ['non-string metadata', () => handMade({ __metadata__: { n: 1 } }, new Uint8Array(0)), ['__metadata__']],
  ];
  for (const [label, make, parts] of cases) {
    it(`refuses ${label} with a DataError naming the file`, () => {
      const path = join(tempDir(), 'bad.safetensors');
      writeFileSync(path, make());
      expectDataError(() => readSafetensors(path), path, ...parts);
      expectDataError(() => readSafetensorsHeader(path), path, ...parts);
    });
  }

  it('refuses a truncated file written by the writer', () => {
    const dir = tempDir();
    const good = join(dir, 'good.safetensors');
    writeSafetensors(good, sample());
    const bytes = readFileSync(good);
    for (const cut of [4, 20, bytes.length - 1]) {
      const path = join(dir, `cut${cut}.safetensors`);
      writeFileSync(path, bytes.subarray(0, cut));
      expectDataError(() => readSafetensors(path), path);
      expectDataError(() => readSafetensors(path, { wholeFileLimit: 0 }), path);
    }
  });

  it('names a missing file', () => {
    const path = join(tempDir(), 'absent.safetensors');
    expectDataError(() => readSafetensors(path), path, 'ENOENT');
  });
});
