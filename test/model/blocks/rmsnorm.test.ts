import { describe, it } from 'vitest';
import { rmsNormBackward, rmsNormForward } from '../../../src/model/blocks/rmsnorm.js';
import { checkBlock } from './block-check.js';

const N = 5, C = 12, EPS = 1e-5;

/** y = x / √(mean(x²) + eps) ⊙ g, float64. */
function rmsNorm64(x: Float64Array, gain: Float64Array): Float64Array {
  const y = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[n * C + c]! ** 2;
    const r = 1 / Math.sqrt(ss / C + EPS);
    for (let c = 0; c < C; c++) y[n * C + c] = x[n * C + c]! * r * gain[c]!;
  }
  return y;
}

describe('RMSNorm block', () => {
  it('forward equals the float64 reference; dx and d gain match central finite differences', async () => {
    await checkBlock({
      inputs: { x: { dims: [N, C] }, gain: { dims: [C] } },
      outDims: [N, C],
      build(g, { x, gain }) {
        const f = rmsNormForward(g, x, gain, EPS);
        return { y: f.y, backward: (dy) => { const b = rmsNormBackward(g, dy, f.saved, { gainGrad: true }); return { x: b.dx, gain: b.dGain! }; } };
      },
      reference: (v) => rmsNorm64(v.x!, v.gain!),
    }, 1, { forward: 1e-6, gradient: 1e-4 });
  });
});
