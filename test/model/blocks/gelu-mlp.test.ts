import { describe, it } from 'vitest';
import { geluMlpBackward, geluMlpForward } from '../../../src/model/blocks/gelu-mlp.js';
import { linearBackward, linearForward } from '../../../src/model/blocks/linear.js';
import { geluNew, linear } from '../../../src/model/reference/kernels.js';
import { checkBlock } from './block-check.js';

const N = 5, C = 6, F = 10;

/** fc2(gelu_new(fc1(x))), float64. */
function mlp64(v: Record<string, Float64Array>): Float64Array {
  const pre = linear(v.x!, N, v.w1!, F, C, v.b1!);
  return linear(pre.map(geluNew), N, v.w2!, C, F, v.b2!);
}

describe('GELU MLP block (phi: fc1, gelu_new, fc2)', () => {
  it('forward equals the float64 reference; dx, the weights\' and the biases\' gradients match central finite differences', async () => {
    // Pre-activations spread over the curved part of gelu (weights ~ N(0, 1), inputs ~ N(0, 1)).
    await checkBlock({
      inputs: { x: { dims: [N, C] }, w1: { dims: [F, C] }, b1: { dims: [F] }, w2: { dims: [C, F] }, b2: { dims: [C] } },
      outDims: [N, C],
      build(g, i) {
        const f = geluMlpForward(g, i.x!, { fc1: (x) => linearForward(g, x, { float: i.w1!, bias: i.b1! }), fc2: (x) => linearForward(g, x, { float: i.w2!, bias: i.b2! }) });
        return {
          y: f.y,
          backward(dy) {
            const grads: Record<string, string> = {};
            grads.x = geluMlpBackward(g, dy, f.saved, {
              fc2(d, input) {
                const b = linearBackward(g, d, i.w2!, { x: input(), bias: true });
                grads.w2 = b.dW!;
                grads.b2 = b.db!;
                return b.dx;
              },
              fc1(dPre) {
                const b = linearBackward(g, dPre, i.w1!, { x: i.x!, bias: true });
                grads.w1 = b.dW!;
                grads.b1 = b.db!;
                return b.dx;
              },
            });
            return grads;
          },
        };
      },
      reference: mlp64,
    }, 9, { forward: 1e-5, gradient: 1e-4 });
  });
});
