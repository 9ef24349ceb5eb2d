import { describe, it } from 'vitest';
import { linearBackward, linearForward } from '../../../src/model/blocks/linear.js';
import { checkBlock } from './block-check.js';

const N = 6, IN = 10, OUT = 7;

/** y = x · Wᵀ + b, float64. */
function linear64(x: Float64Array, w: Float64Array, b?: Float64Array): Float64Array {
  const y = new Float64Array(N * OUT);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < OUT; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < IN; i++) s += x[n * IN + i]! * w[o * IN + i]!;
      y[n * OUT + o] = s;
    }
  return y;
}

describe('linear block', () => {
  it('forward equals the float64 reference; dx, dW, db match central finite differences', async () => {
    await checkBlock({
      inputs: { x: { dims: [N, IN] }, w: { dims: [OUT, IN] }, b: { dims: [OUT] } },
      outDims: [N, OUT],
      build(g, i) {
        const y = linearForward(g, i.x!, { float: i.w!, bias: i.b! });
        return { y, backward: (dy) => { const r = linearBackward(g, dy, i.w!, { x: i.x!, bias: true }); return { x: r.dx, w: r.dW!, b: r.db! }; } };
      },
      reference: (v) => linear64(v.x!, v.w!, v.b!),
    }, 4, { forward: 1e-6, gradient: 1e-5 });
  });

  it('without a bias and without x: the data-gradient only', async () => {
    await checkBlock({
      inputs: { x: { dims: [N, IN] }, w: { dims: [OUT, IN], constant: true } },
      outDims: [N, OUT],
      build: (g, i) => ({ y: linearForward(g, i.x!, { float: i.w! }), backward: (dy) => ({ x: linearBackward(g, dy, i.w!).dx }) }),
      reference: (v) => linear64(v.x!, v.w!),
    }, 5, { forward: 1e-6, gradient: 1e-5 });
  });
});
