import { describe, it } from 'vitest';
import { layerNormBackward, layerNormForward } from '../../../src/model/blocks/layernorm.js';
import { layerNorm } from '../../../src/model/reference/kernels.js';
import { checkBlock } from './block-check.js';

const N = 5, C = 12, EPS = 1e-5;

describe('LayerNorm block (phi)', () => {
  it('forward equals the float64 reference; dx, d gain and d bias match central finite differences', async () => {
    await checkBlock({
      inputs: { x: { dims: [N, C] }, gain: { dims: [C] }, bias: { dims: [C] } },
      outDims: [N, C],
      build(g, { x, gain, bias }) {
        const f = layerNormForward(g, x!, gain!, bias!, EPS, C);
        return { y: f.y, backward: (dy) => { const b = layerNormBackward(g, dy, f.saved, { paramGrads: true }); return { x: b.dx, gain: b.dGain!, bias: b.dBias! }; } };
      },
      reference: (v) => layerNorm(v.x!, N, C, v.gain!, v.bias!, EPS),
    }, 2, { forward: 1e-6, gradient: 1e-4 });
  });

  it('a row far from zero mean (x + 100) keeps its precision: the fused kernel centres before squaring', async () => {
    const prng = Float64Array.from({ length: N * C }, (_, i) => Math.fround(100 + Math.sin(i * 1.7)));
    await checkBlock({
      inputs: { x: { dims: [N, C], data: prng }, gain: { dims: [C] }, bias: { dims: [C] } },
      outDims: [N, C],
      build(g, { x, gain, bias }) {
        const f = layerNormForward(g, x!, gain!, bias!, EPS, C);
        return { y: f.y, backward: (dy) => ({ x: layerNormBackward(g, dy, f.saved).dx }) };
      },
      reference: (v) => layerNorm(v.x!, N, C, v.gain!, v.bias!, EPS),
    }, 3, { forward: 1e-5, gradient: 1e-3 });
  });
});
