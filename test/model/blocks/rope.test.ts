import { describe, expect, it } from 'vitest';
import { ropeBackward, ropeForward, ropeTables } from '../../../src/model/blocks/rope.js';
import { checkBlock } from './block-check.js';

const B = 2, HEADS = 3, T = 5, D = 8;

/** HF rotate_half on the first R features of each head, with the float32 tables as given. */
function rope64(x: Float64Array, cos: Float64Array, sin: Float64Array, R: number): Float64Array {
  const y = Float64Array.from(x);
  const half = R / 2;
  for (let bh = 0; bh < B * HEADS; bh++)
    for (let t = 0; t < T; t++) {
      const base = (bh * T + t) * D;
      for (let i = 0; i < half; i++) {
        const x1 = x[base + i]!, x2 = x[base + i + half]!;
        y[base + i] = x1 * cos[t * R + i]! - x2 * sin[t * R + i]!;
        y[base + i + half] = x2 * cos[t * R + i + half]! + x1 * sin[t * R + i + half]!;
      }
    }
  return y;
}

describe('RoPE block', () => {
  for (const R of [D, 4]) {
    it(`${R === D ? 'full' : 'partial (R = 4 of D = 8)'} rotary: forward equals the float64 reference; dx matches central finite differences`, async () => {
      const { cos, sin } = ropeTables(T, R, 10000);
      await checkBlock({
        inputs: {
          x: { dims: [B, HEADS, T, D] },
          cos: { dims: [T, R], data: Float64Array.from(cos.data as Float32Array), constant: true },
          sin: { dims: [T, R], data: Float64Array.from(sin.data as Float32Array), constant: true },
        },
        outDims: [B, HEADS, T, D],
        build: (g, i) => ({ y: ropeForward(g, i.x!, i.cos!, i.sin!, D, R), backward: (dy) => ({ x: ropeBackward(g, dy, i.cos!, i.sin!, D, R) }) }),
        reference: (v) => rope64(v.x!, v.cos!, v.sin!, R),
      }, 2, { forward: 1e-6, gradient: 1e-5 });
    });
  }

  it('tables: angle p·θ^(−2i/R), halves repeated', () => {
    const { cos, sin } = ropeTables(3, 4, 100);
    const c = cos.data as Float32Array, s = sin.data as Float32Array;
    expect(cos.shape).toEqual([3, 4]);
    expect(c[2 * 4 + 1]).toBeCloseTo(Math.cos(2 * 100 ** (-2 / 4)), 6);
    expect(c[2 * 4 + 3]).toBe(c[2 * 4 + 1]);
    expect(s[1 * 4 + 0]).toBeCloseTo(Math.sin(1), 6);
  });
});
