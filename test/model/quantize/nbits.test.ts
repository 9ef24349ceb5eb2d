import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import { blockScale, dequantize4BitInto, dequantizeNBits, quantizeNBits, type NBitsOptions } from '../../../src/model/quantize/nbits.js';
import { matMulNBits, nbitsInitializers } from '../../../src/model/blocks/linear.js';
import { GraphBuilder } from '../../../src/model/onnx/index.js';
import { createSession, f32Tensor, loadOrt } from '../../../src/model/onnx/session.js';

function randomWeight(N: number, K: number, seed: number): Float32Array {
  const prng = new Prng(seed);
  const w = new Float32Array(N * K);
  for (let i = 0; i < w.length; i++) w[i] = prng.normal() * (1 + (i % 7)) * 0.05; // uneven block ranges
  w[3] = 0; // exact zeros stay exact
  return w;
}

const cases: NBitsOptions[] = [
  { bits: 4, blockSize: 32, symmetric: true },
  { bits: 4, blockSize: 64, symmetric: false },
  { bits: 4, blockSize: 128, symmetric: false },
  { bits: 8, blockSize: 32, symmetric: true },
  { bits: 8, blockSize: 64, symmetric: false },
];

describe('block-wise n-bit quantization', () => {
  for (const opts of cases) {
    const label = `${opts.bits}-bit, block ${opts.blockSize}, ${opts.symmetric ? 'symmetric' : 'zero points'}`;
    it(`${label}: |x − q(x)| ≤ scale/2 per element (K not a block multiple)`, () => {
      const N = 6, K = 2 * opts.blockSize + 24;
      const w = randomWeight(N, K, opts.bits * 1000 + opts.blockSize);
      const q = quantizeNBits(w, N, K, opts);
      expect(q.nBlocks).toBe(3);
      expect(q.codes.length).toBe((N * q.nBlocks * opts.blockSize * opts.bits) / 8);
      const back = dequantizeNBits(q);
      let worst = 0;
      for (let n = 0; n < N; n++)
        for (let k = 0; k < K; k++) {
          const s = blockScale(q, n, k);
          expect(s).toBeGreaterThan(0);
          const err = Math.abs(w[n * K + k]! - back[n * K + k]!);
          worst = Math.max(worst, err / s);
        }
      expect(worst).toBeLessThanOrEqual(0.5 + 1e-5);
      expect(back[3]).toBe(0);
    });

    it(`${label}: onnxruntime MatMulNBits computes x · dequant(W)ᵀ`, async () => {
      const N = 5, K = 2 * opts.blockSize, M = 3;
      const w = randomWeight(N, K, 7 + opts.bits);
      const q = quantizeNBits(w, N, K, opts);
      const deq = dequantizeNBits(q);
      const g = new GraphBuilder('mmnb');
      const x = g.input('x', 'float32', [M, K]);
      g.output(matMulNBits(g, x, nbitsInitializers(g, { codes: 'lin.weight_q', scales: 'lin.weight_scales', zeroPoints: 'lin.weight_zp' }, q)), 'y', 'float32', [M, N]);
      const ort = await loadOrt();
      const session = await createSession(g.toBytes(), { threads: 1 });
      const prng = new Prng(3);
      const xs = Float32Array.from({ length: M * K }, () => prng.normal());
      const y = (await session.run({ x: f32Tensor(ort, xs, [M, K]) })).y!.data as Float32Array;
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let ref = 0;
          for (let k = 0; k < K; k++) ref += xs[m * K + k]! * deq[n * K + k]!;
          expect(Math.abs(y[m * N + n]! - ref)).toBeLessThan(1e-4 * (1 + Math.abs(ref)));
        }
    });
  }

  it('rejects bad bit widths and block sizes', () => {
    const w = new Float32Array(64);
    expect(() => quantizeNBits(w, 1, 64, { bits: 3 as 4, blockSize: 32, symmetric: true })).toThrow(/4 or 8/);
    expect(() => quantizeNBits(w, 1, 64, { bits: 4, blockSize: 48, symmetric: true })).toThrow(/power of two/);
  });

  it('dequantize4BitInto equals the reference dequantization bit for bit (symmetric, zero points, odd block count)', () => {
    for (const symmetric of [true, false]) {
      const N = 7, K = 3 * 16;
      const q = quantizeNBits(randomWeight(N, K, 21), N, K, { bits: 4, blockSize: 16, symmetric });
      expect(Array.from(dequantize4BitInto(q, new Float32Array(N * K)))).toEqual(Array.from(dequantizeNBits(q)));
    }
  });

  it('dequantize4BitInto rejects 8-bit codes and a wrong output size', () => {
    const q8 = quantizeNBits(randomWeight(2, 32, 1), 2, 32, { bits: 8, blockSize: 32, symmetric: true });
    expect(() => dequantize4BitInto(q8, new Float32Array(64))).toThrow(/4-bit/);
    const q4 = quantizeNBits(randomWeight(2, 32, 1), 2, 32, { bits: 4, blockSize: 32, symmetric: true });
    expect(() => dequantize4BitInto(q4, new Float32Array(10))).toThrow(/holds 10 values/);
  });
});
