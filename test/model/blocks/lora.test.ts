import { describe, it } from 'vitest';
import { loraBackward, loraForward } from '../../../src/model/blocks/lora.js';
import { checkBlock } from './block-check.js';

const N = 6, IN = 10, OUT = 7, R = 3, SCALE = 2.5;

/** y = base + s · (x ⊙ mask) · Aᵀ · Bᵀ, float64. */
function lora64(x: Float64Array, base: Float64Array, A: Float64Array, B: Float64Array, mask?: Float64Array): Float64Array {
  const y = Float64Array.from(base);
  for (let n = 0; n < N; n++) {
    const u = new Float64Array(R);
    for (let r = 0; r < R; r++) for (let i = 0; i < IN; i++) u[r] += x[n * IN + i]! * (mask ? mask[n * IN + i]! : 1) * A[r * IN + i]!;
    for (let o = 0; o < OUT; o++) for (let r = 0; r < R; r++) y[n * OUT + o] += SCALE * u[r]! * B[o * R + r]!;
  }
  return y;
}

describe('LoRA block', () => {
  for (const dropout of [false, true]) {
    it(`${dropout ? 'with a dropout keep-mask: ' : ''}forward equals the float64 reference; dx, d base, dA, dB match central finite differences`, async () => {
      const mask = Float64Array.from({ length: N * IN }, (_, i) => ((i * 7) % 5 === 0 ? 0 : 1));
      await checkBlock({
        inputs: {
          x: { dims: [N, IN] }, base: { dims: [N, OUT] }, A: { dims: [R, IN] }, B: { dims: [OUT, R] },
          ...(dropout ? { mask: { dims: [N, IN], data: mask, constant: true, type: 'uint8' as const } } : {}),
        },
        outDims: [N, OUT],
        build(g, i) {
          const values = { A: i.A!, B: i.B!, scale: SCALE, mask: i.mask };
          const f = loraForward(g, i.x!, i.base!, values);
          return {
            y: f.y,
            backward(dy) {
              // The base linear's own data-gradient is 0 here, so dx is the branch's alone.
              const zero = g.mul(i.x!, g.constFloat([0]));
              const b = loraBackward(g, dy, values, { x: i.x!, u: f.u }, zero);
              return { x: b.dx, base: g.op('Identity', [dy]), A: b.dA, B: b.dB };
            },
          };
        },
        reference: (v) => lora64(v.x!, v.base!, v.A!, v.B!, dropout ? v.mask : undefined),
      }, dropout ? 7 : 6, { forward: 1e-6, gradient: 1e-5 });
    });
  }
});
