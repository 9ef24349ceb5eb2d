import { describe, it } from 'vitest';
import { linearBackward, linearForward } from '../../../src/model/blocks/linear.js';
import { swigluBackward, swigluForward } from '../../../src/model/blocks/swiglu.js';
import { checkBlock } from './block-check.js';

const N = 5, C = 6, F = 9;

function matmulT(x: Float64Array, w: Float64Array, rows: number, out: number, inDim: number): Float64Array {
  const y = new Float64Array(rows * out);
  for (let n = 0; n < rows; n++) for (let o = 0; o < out; o++) for (let i = 0; i < inDim; i++) y[n * out + o] += x[n * inDim + i]! * w[o * inDim + i]!;
  return y;
}

/** down(silu(gate(x)) ⊙ up(x)), float64. */
function swiglu64(x: Float64Array, wg: Float64Array, wu: Float64Array, wd: Float64Array): Float64Array {
  const gate = matmulT(x, wg, N, F, C), up = matmulT(x, wu, N, F, C);
  const act = gate.map((z, i) => (z / (1 + Math.exp(-z))) * up[i]!);
  return matmulT(act, wd, N, C, F);
}

describe('SwiGLU MLP block', () => {
  it('forward equals the float64 reference; dx and the projections\' dW match central finite differences', async () => {
    await checkBlock({
      inputs: { x: { dims: [N, C] }, wg: { dims: [F, C] }, wu: { dims: [F, C] }, wd: { dims: [C, F] } },
      outDims: [N, C],
      build(g, i) {
        const f = swigluForward(g, i.x!, { gate: (x) => linearForward(g, x, { float: i.wg! }), up: (x) => linearForward(g, x, { float: i.wu! }), down: (x) => linearForward(g, x, { float: i.wd! }) });
        return {
          y: f.y,
          backward(dy) {
            const grads: Record<string, string> = {};
            grads.x = swigluBackward(g, dy, f.saved, {
              down(d, input) {
                const b = linearBackward(g, d, i.wd!, { x: input() });
                grads.wd = b.dW!;
                return b.dx;
              },
              gateUp(dGate, dUp) {
                const bg = linearBackward(g, dGate, i.wg!, { x: i.x! }), bu = linearBackward(g, dUp, i.wu!, { x: i.x! });
                grads.wg = bg.dW!;
                grads.wu = bu.dW!;
                return g.add(bg.dx, bu.dx);
              },
            });
            return grads;
          },
        };
      },
      reference: (v) => swiglu64(v.x!, v.wg!, v.wu!, v.wd!),
    }, 8, { forward: 1e-5, gradient: 1e-4 });
  });
});
