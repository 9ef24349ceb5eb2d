import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import type { DecoderArchitecture } from '../../../src/model/architectures/index.js';
import { llama } from '../../../src/model/architectures/llama.js';
import type { LlamaConfig } from '../../../src/model/config.js';
import { loadOrt } from '../../../src/model/onnx/session.js';
import { rmsNorm } from '../../../src/model/reference/llama.js';
import { buildHead } from '../../../src/train/graphs/head.js';

const cfg: LlamaConfig = {
  architecture: 'llama', vocabSize: 13, hiddenSize: 8, intermediateSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1,
  headDim: 4, rmsNormEps: 1e-5, ropeTheta: 10000, maxPositionEmbeddings: 16, tieWordEmbeddings: false, attentionBias: false, eosTokenId: [2], torchDtype: 'float32',
};
const N = 6, C = 8, V = 13;
const LABELS = [4, -100, 0, 12, -100, 7];

/** llama's head with an LM head bias, as phi has: what a new architecture file declares, nothing else. */
const biasedHead: DecoderArchitecture = {
  ...llama,
  headTensors: (c) => [...llama.headTensors(c), { name: 'lm_head.bias', shape: [c.vocabSize] }],
  lmHead: () => ({ weight: 'lm_head.weight', bias: 'lm_head.bias' }),
};

function lossSum64(h: Float64Array, gain: Float64Array, W: Float64Array, b?: Float64Array): number {
  const y = rmsNorm(h, N, C, gain, cfg.rmsNormEps);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    if (LABELS[n] === -100) continue;
    const z = Array.from({ length: V }, (_, v) => (b ? b[v]! : 0) + Array.from({ length: C }, (_, c) => y[n * C + c]! * W[v * C + c]!).reduce((s, x) => s + x, 0));
    const max = Math.max(...z);
    loss += max + Math.log(z.reduce((s, x) => s + Math.exp(x - max), 0)) - z[LABELS[n]!]!;
  }
  return loss;
}

describe('training head graph', () => {
  for (const [label, arch] of [['llama', llama], ['an architecture with an LM head bias', biasedHead]] as const) {
    it(`${label}: loss_sum equals the float64 reference; dh and the head's tensor gradients match central finite differences`, async () => {
      const prng = new Prng(3);
      const rnd = (n: number, scale = 1, base = 0) => Float64Array.from({ length: n }, () => Math.fround(base + scale * prng.normal()));
      const values: Record<string, Float64Array> = { h: rnd(N * C), 'model.norm.weight': rnd(C, 0.2, 1), 'lm_head.weight': rnd(V * C), 'lm_head.bias': rnd(V) };
      const biased = arch.lmHead(cfg).bias !== undefined;
      const g = buildHead({ config: cfg, arch, fullGrads: true });
      const ort = await loadOrt();
      const session = await ort.InferenceSession.create(g.toBytes(), { intraOpNumThreads: 1 });
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { labels: new ort.Tensor('int64', BigInt64Array.from(LABELS.map(BigInt)), [N]) };
      const dims: Record<string, number[]> = { h: [N, C], 'model.norm.weight': [C], 'lm_head.weight': [V, C], 'lm_head.bias': [V] };
      for (const name of session.inputNames) if (name !== 'labels') feeds[name] = new ort.Tensor('float32', Float32Array.from(values[name]!), dims[name]!);
      expect(session.inputNames.includes('lm_head.bias')).toBe(biased);
      const out = await session.run(feeds);
      await session.release();
      const loss = () => lossSum64(values.h!, values['model.norm.weight']!, values['lm_head.weight']!, biased ? values['lm_head.bias'] : undefined);
      const got = (out.loss_sum!.data as Float32Array)[0]!;
      expect(Math.abs(got - loss()) / loss()).toBeLessThan(1e-5);
      const grads: Record<string, string> = { h: 'dh', 'model.norm.weight': 'grad.model.norm.weight', 'lm_head.weight': 'grad.lm_head.weight', ...(biased ? { 'lm_head.bias': 'grad.lm_head.bias' } : {}) };
      for (const [name, output] of Object.entries(grads)) {
        const theta = values[name]!, grad = out[output]!.data as Float32Array;
        const dir = Float64Array.from(theta, () => prng.next() - 0.5);
        const saved = Float64Array.from(theta);
        const at = (eps: number) => {
          theta.forEach((_, j) => (theta[j] = saved[j]! + eps * dir[j]!));
          const l = loss();
          theta.set(saved);
          return l;
        };
        const fd = (at(1e-5) - at(-1e-5)) / 2e-5;
        let analytic = 0, terms = 0;
        grad.forEach((gv, j) => {
          analytic += gv * dir[j]!;
          terms += Math.abs(gv * dir[j]!);
        });
        expect(Math.abs(analytic - fd) / Math.max(Math.abs(fd), terms), name).toBeLessThan(1e-4);
      }
    });
  }
});
