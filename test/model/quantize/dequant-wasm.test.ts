import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import { CHUNK_FLOATS, dequantize4BitWasm, dequantWasmAvailable } from '../../../src/model/quantize/dequant-wasm.js';
import { dequantize4BitInto, dequantize4BitReference, dequantizeNBits, quantizeNBits, type NBitsWeight } from '../../../src/model/quantize/nbits.js';

/**
 * The WebAssembly dequantization kernel against the JavaScript loop it replaces
 * (dequantize4BitReference) and the generic dequantizeNBits: the same float32 bytes, except that a
 * NaN (0 · ∞ with an infinite scale) may be another NaN (neither side fixes the payload).
 */
const f32bits = (bits: number): number => new Float32Array(Uint32Array.of(bits).buffer)[0]!;

function expectSameBytes(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  const u = new Uint32Array(got.buffer, got.byteOffset, got.length), r = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < u.length; i++) {
    if (u[i] === r[i]) continue;
    if (Number.isNaN(got[i]) && Number.isNaN(want[i])) continue;
    expect.fail(`${what}: element ${i} of ${got.length} is 0x${u[i]!.toString(16)} (${got[i]}), the reference 0x${r[i]!.toString(16)} (${want[i]})`);
  }
}

/** A 4-bit weight with uniformly random codes, scales and (optionally) zero points. */
function randomQ(prng: Prng, N: number, nBlocks: number, blockSize: number, zeroPoints: boolean): NBitsWeight {
  const K = nBlocks * blockSize;
  const codes = Uint8Array.from({ length: (N * K) / 2 }, () => prng.int(256));
  const scales = Float32Array.from({ length: N * nBlocks }, () => (prng.next() - 0.5) * 2 ** (prng.int(30) - 20));
  const zps = zeroPoints ? Uint8Array.from({ length: N * ((nBlocks + 1) >> 1) }, () => prng.int(256)) : undefined;
  return { bits: 4, blockSize, symmetric: !zeroPoints, N, K, nBlocks, codes, scales, zeroPoints: zps };
}

function check(q: NBitsWeight, what: string): void {
  const want = dequantize4BitReference(q, new Float32Array(q.N * q.K));
  expectSameBytes(dequantize4BitWasm(q, new Float32Array(q.N * q.K).fill(NaN)), want, `${what} (kernel)`);
  expectSameBytes(dequantize4BitInto(q, new Float32Array(q.N * q.K)), want, `${what} (dequantize4BitInto)`);
  // The reference loop itself against the generic element-by-element dequantization.
  expectSameBytes(want, dequantizeNBits(q), `${what} (reference vs dequantizeNBits)`);
}

describe('the 4-bit dequantization WebAssembly kernel', () => {
  it('runs on this machine (Node ≥ 20 on x86-64 with SSE4.1 or arm64)', () => {
    expect(dequantWasmAvailable()).toBe(true);
  });

  it('every (code, zero point) pair — all 31 differences — times random and edge scales rounds as f32(exact product)', () => {
    // One row per scale: 16 blocks of 32 with zero points 0..15, each block holding codes 0..15 twice.
    const prng = new Prng(5);
    const edges = [
      0, -0, Infinity, -Infinity, f32bits(1) /* smallest denormal */, f32bits(0x807fffff), f32bits(0x00400001),
      f32bits(0x00800000) /* smallest normal */, f32bits(0x7f7fffff) /* largest */, f32bits(0xff7fffff), f32bits(0x7f000001),
      3.4028234663852886e38 / 15, 1, -1, 0.1, 1 / 3, 2 ** -126, 2 ** -149 * 3, 65504,
    ];
    const scales: number[] = [...edges];
    while (scales.length < 4096) {
      const r = prng.next();
      if (r < 0.4) scales.push(f32bits(prng.nextU32() & 0xff7fffff)); // any finite float32 or denormal pattern
      else if (r < 0.6) scales.push(f32bits(prng.nextU32() & 0x807fffff)); // denormals
      else scales.push((prng.next() - 0.5) * 2 ** (prng.int(40) - 30)); // the usual scales
    }
    const N = scales.length, nBlocks = 16, blockSize = 32, K = nBlocks * blockSize;
    const codes = new Uint8Array((N * K) / 2);
    for (let i = 0; i < codes.length; i++) codes[i] = (2 * i) % 16 | (((2 * i + 1) % 16) << 4);
    const zeroPoints = new Uint8Array(N * 8);
    for (let i = 0; i < zeroPoints.length; i++) zeroPoints[i] = (2 * i) % 16 | (((2 * i + 1) % 16) << 4);
    const perBlock = Float32Array.from({ length: N * nBlocks }, (_, i) => scales[Math.floor(i / nBlocks)]!); // one scale a row
    const q: NBitsWeight = { bits: 4, blockSize, symmetric: false, N, K, nBlocks, codes, scales: perBlock, zeroPoints };
    const got = dequantize4BitWasm(q, new Float32Array(N * K));
    // Independent of both loops: Math.fround of the exact float64 product, element by element.
    const want = new Float32Array(N * K);
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k++) {
        const b = k >> 5, i = k & 31;
        want[n * K + k] = Math.fround(((i & 15) - b) * perBlock[n * nBlocks]!); // the float32 scale
      }
    expectSameBytes(got, want, 'all pairs × scales');
    check(q, 'all pairs × scales');
  });

  it('equals the JavaScript loop for random weights: block sizes 16–128, with and without zero points, odd block counts, N = 1, chunk edges', () => {
    const prng = new Prng(9);
    for (const blockSize of [16, 32, 64, 128])
      for (const zp of [false, true])
        for (const [N, nBlocks] of [[1, 1], [1, 3], [5, 7], [3, 2], [Math.floor(CHUNK_FLOATS / (4 * blockSize)) * 2 + 1, 4]] as const)
          check(randomQ(prng, N, nBlocks, blockSize, zp), `block ${blockSize}, ${zp ? 'zero points' : 'symmetric'}, [${N}, ${nBlocks} blocks]`);
    // Rows longer than a chunk (the module's memory grows), and weights from the quantizer.
    check(randomQ(prng, 3, (CHUNK_FLOATS + 2048) / 64 + 1, 64, true), 'rows longer than a chunk');
    for (const symmetric of [true, false]) {
      const N = 37, K = 5 * 32, w = Float32Array.from({ length: N * K }, () => prng.normal() * 0.05);
      check(quantizeNBits(w, N, K, { bits: 4, blockSize: 32, symmetric }), `quantized, ${symmetric ? 'symmetric' : 'zero points'}`);
    }
  });

  it('dequantize4BitInto and the reference reject 8-bit codes, K off the block grid and a wrong output size', () => {
    const q8 = quantizeNBits(new Float32Array(64).fill(0.5), 2, 32, { bits: 8, blockSize: 32, symmetric: true });
    const q4 = quantizeNBits(new Float32Array(64).fill(0.5), 2, 32, { bits: 4, blockSize: 32, symmetric: true });
    const ragged = quantizeNBits(new Float32Array(2 * 40).fill(0.5), 2, 40, { bits: 4, blockSize: 32, symmetric: false });
    for (const f of [dequantize4BitInto, dequantize4BitReference]) {
      expect(() => f(q8, new Float32Array(64))).toThrow(/needs 4-bit codes/);
      expect(() => f(ragged, new Float32Array(80))).toThrow(/K \(40\) a multiple of the block size \(32\)/);
      expect(() => f(q4, new Float32Array(10))).toThrow(/output holds 10 values, \[2, 32\] needs 64/);
    }
  });
});
