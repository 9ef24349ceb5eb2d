import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import type { LlamaConfig } from '../../../src/model/config.js';
import { initLlamaWeights } from '../../../src/model/init/index.js';
import { LINEAR_MODULES, linearPath } from '../../../src/model/architectures/llama.js';
import { dequantizeNBits, quantizeNBits, type NBitsWeight } from '../../../src/model/quantize/nbits.js';
import { createTrainingStep, type BaseModel, type StepResult, type TokenBatch, type TrainingStepOptions } from '../../../src/train/step/index.js';
import { initLora, loraSites, type LoraConfig, type LoraSite, type LoraTensors } from '../../../src/train/lora.js';

/** A LoRA step over `params`; its gradients as A/B pairs per site (the step returns them flat, A₀, B₀, A₁, …). */
async function loraStep(base: BaseModel, lora: LoraConfig, sites: LoraSite[], params: LoraTensors[], options: Partial<TrainingStepOptions> = {}) {
  const step = await createTrainingStep({ base, trainable: { kind: 'lora', lora, sites, params }, maxPositions: 16, threads: 1, ...options });
  return {
    step,
    run: async (batch: TokenBatch, masks?: Uint8Array[]) => {
      const out: StepResult = await step.run(batch, masks);
      return { lossSum: out.lossSum, grads: sites.map((_, i) => ({ A: out.grads[2 * i]!, B: out.grads[2 * i + 1]! })) };
    },
  };
}
import { referenceLossSum, type ReferenceBatch } from '../../../src/train/reference.js';

// A small GQA model (H 4, KVH 2) so that float64 finite differences stay fast.
const baseCfg: LlamaConfig = {
  architecture: 'llama', vocabSize: 40, hiddenSize: 32, intermediateSize: 48, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2,
  headDim: 8, rmsNormEps: 1e-5, ropeTheta: 10000, maxPositionEmbeddings: 64, tieWordEmbeddings: false, attentionBias: false, eosTokenId: [2], torchDtype: 'float32',
};

/** Two sequences: the second right-padded by 2; prompt positions and padding carry label −100. */
function makeBatch(): { batch: TokenBatch; ref: ReferenceBatch } {
  const B = 2, T = 7;
  const ids = [5, 9, 3, 17, 22, 8, 31, 4, 12, 29, 7, 11, 0, 0];
  const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
  const labels = [-100, -100, 17, 22, 8, 31, 2, -100, 29, 7, 11, 2, -100, -100];
  const batch: TokenBatch = {
    B, T,
    inputIds: BigInt64Array.from(ids.map(BigInt)),
    attentionMask: BigInt64Array.from(mask.map(BigInt)),
    labels: BigInt64Array.from(labels.map(BigInt)),
    tokens: labels.filter((l) => l !== -100).length,
  };
  return { batch, ref: { B, T, ids, attentionMask: mask, labels } };
}

const EPS = 1e-4;

/**
 * The analytic gradient's projection on a random direction against the float64 central finite
 * difference of the loss along it (covers every entry of the tensor); relative error < 1e-3.
 */
function expectDirectionalDerivative(theta: Float64Array, grad: Float32Array, loss: () => number, prng: Prng, label: string): void {
  const dir = Float64Array.from(theta, () => prng.next() - 0.5);
  const saved = Float64Array.from(theta);
  theta.forEach((_, j) => (theta[j] = saved[j]! + EPS * dir[j]!));
  const plus = loss();
  theta.forEach((_, j) => (theta[j] = saved[j]! - EPS * dir[j]!));
  const minus = loss();
  theta.set(saved);
  const fd = (plus - minus) / (2 * EPS);
  let analytic = 0;
  grad.forEach((gv, j) => (analytic += gv * dir[j]!));
  const rel = Math.abs(analytic - fd) / Math.max(Math.abs(fd), 1e-6);
  expect(rel, `${label}: engine ${analytic} vs finite differences ${fd}`).toBeLessThan(1e-3);
}

async function gradientCheck(lora: LoraConfig, withMasks: boolean, quantize?: { symmetric: boolean }, cfg: LlamaConfig = baseCfg, options: Partial<TrainingStepOptions> = {}): Promise<void> {
  const weights = initLlamaWeights(cfg, 11);
  for (const [name, t] of weights) if (name.endsWith('.bias')) (t.data as Float32Array).forEach((_, i, a) => (a[i] = Math.sin(i + name.length))); // non-zero biases
  // Larger-than-init weights so the attention and MLP are far from linear.
  for (const [name, t] of weights) if (!name.endsWith('norm.weight')) (t.data as Float32Array).forEach((v, i, a) => (a[i] = v * 10));
  // int4 base: the graph gets the codes; the reference gets the dequantized weights (blocks of 16,
  // so F = 48 gives an odd block count and exercises the zero-point packing).
  let quantized: Map<string, NBitsWeight> | undefined;
  if (quantize) {
    quantized = new Map();
    for (let l = 0; l < cfg.numHiddenLayers; l++)
      for (const m of LINEAR_MODULES) {
        const path = linearPath(l, m);
        const w = weights.get(`${path}.weight`)!;
        const q = quantizeNBits(w.data as Float32Array, w.shape[0]!, w.shape[1]!, { bits: 4, blockSize: 16, symmetric: quantize.symmetric });
        quantized.set(path, q);
        weights.set(`${path}.weight`, { dtype: 'F32', shape: w.shape, data: dequantizeNBits(q) });
      }
  }
  const sites = loraSites(cfg, lora);
  const params: LoraTensors[] = initLora(sites, lora.r, 3);
  const prng = new Prng(5);
  for (const p of params) p.B.forEach((_, i, a) => (a[i] = Math.fround((prng.next() - 0.5) * 0.5))); // B ≠ 0 so dA ≠ 0
  const { batch, ref } = makeBatch();
  const masks = withMasks ? sites.map((s) => Uint8Array.from({ length: ref.B * ref.T * s.inDim }, () => (prng.next() < lora.lora_dropout ? 0 : 1))) : undefined;

  const engine = await loraStep({ config: cfg, weights, quantized }, lora, sites, params, options);
  const { lossSum, grads } = await engine.run(batch, masks);
  await engine.step.release();

  const A64 = params.map((p) => Float64Array.from(p.A));
  const B64 = params.map((p) => Float64Array.from(p.B));
  const refLoss = () => referenceLossSum(cfg, weights, ref, { config: lora, sites, A: A64, B: B64, masks });
  expect(Math.abs(lossSum - refLoss()) / refLoss()).toBeLessThan(1e-5);

  sites.forEach((site, i) => {
    for (const which of ['A', 'B'] as const) {
      const theta = which === 'A' ? A64[i]! : B64[i]!;
      const grad = which === 'A' ? grads[i]!.A : grads[i]!.B;
      const saved = Float64Array.from(theta);
      expectDirectionalDerivative(theta, grad, refLoss, prng, `${site.path}.lora_${which}`);
      // And two single entries.
      for (let probe = 0; probe < 2; probe++) {
        const j = prng.int(theta.length);
        theta[j] = saved[j]! + EPS;
        const p1 = refLoss();
        theta[j] = saved[j]! - EPS;
        const m1 = refLoss();
        theta[j] = saved[j]!;
        const fd1 = (p1 - m1) / (2 * EPS);
        expect(Math.abs(grad[j]! - fd1), `${site.path}.lora_${which}[${j}]`).toBeLessThan(1e-3 * Math.max(Math.abs(fd1), 1e-2));
      }
    }
  });
}

describe('layerwise training step gradients', () => {
  it('match float64 central finite differences for every LoRA tensor (RoPE, GQA, padding, label mask)', async () => {
    await gradientCheck({ r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, false);
  });

  it('match finite differences with the attention probabilities recomputed in the backward (a large model\'s default) as with them saved (a small one\'s)', async () => {
    const lora: LoraConfig = { r: 2, lora_alpha: 4, lora_dropout: 0.25, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] };
    await gradientCheck(lora, true, undefined, baseCfg, { saveAttentionProbs: false });
    await gradientCheck(lora, true, undefined, baseCfg, { saveAttentionProbs: true });
  });

  it('match finite differences on an int4 base dequantized in the graph (symmetric and with zero points)', async () => {
    const lora: LoraConfig = { r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['k_proj', 'o_proj', 'up_proj', 'down_proj'] };
    await gradientCheck(lora, false, { symmetric: true });
    await gradientCheck(lora, false, { symmetric: false });
  });

  it('match finite differences with LoRA dropout keep-masks, on a subset of modules', async () => {
    await gradientCheck({ r: 2, lora_alpha: 16, lora_dropout: 0.25, target_modules: ['q_proj', 'v_proj', 'down_proj'] }, true);
  });

  it('match finite differences with q/k/v biases and tied embeddings (qwen2 style), on an int4 base', async () => {
    const qwen: LlamaConfig = { ...baseCfg, architecture: 'qwen2', attentionBias: true, tieWordEmbeddings: true };
    const lora: LoraConfig = { r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['q_proj', 'v_proj', 'gate_proj'] };
    await gradientCheck(lora, false, undefined, qwen);
    await gradientCheck(lora, false, { symmetric: true }, qwen);
  });
});

describe('full fine-tuning gradients', () => {
  async function fullCheck(cfg: LlamaConfig): Promise<void> {
    const weights = initLlamaWeights(cfg, 13);
    for (const [name, t] of weights) (t.data as Float32Array).forEach((v, i, a) => (a[i] = name.endsWith('norm.weight') ? 1 + 0.3 * Math.sin(i + name.length) : name.endsWith('.bias') ? Math.sin(i) : v * 10));
    // float64 copies for the reference, equal to the float32 weights the engine trains
    const w64 = new Map([...weights].map(([name, t]) => [name, { dtype: 'F64' as const, shape: t.shape, data: Float64Array.from(t.data as Float32Array) }]));
    const lora: LoraConfig = { r: 1, lora_alpha: 1, lora_dropout: 0, target_modules: ['q_proj'] };
    const engine = await createTrainingStep({ base: { config: cfg, weights }, trainable: { kind: 'full' }, maxPositions: 16, threads: 1, headRows: 5 });
    const { batch, ref } = makeBatch();
    const { lossSum, grads: weightGrads } = await engine.run(batch);
    const params = engine.parameters();
    await engine.release();
    const refLoss = () => referenceLossSum(cfg, w64, ref, { config: lora, sites: [], A: [], B: [] });
    expect(Math.abs(lossSum - refLoss()) / refLoss()).toBeLessThan(1e-5);
    // every weight of the model is trainable, once
    expect(params.map((p) => p.name).sort()).toEqual([...weights.keys()].sort());
    const prng = new Prng(17);
    params.forEach((p, i) => {
      expectDirectionalDerivative(w64.get(p.name)!.data, weightGrads![i]!, refLoss, prng, p.name);
    });
  }

  it('match float64 central finite differences for every weight of the model (embedding, norms, projections, LM head)', async () => {
    await fullCheck(baseCfg);
  });

  it('match finite differences with q/k/v biases and a tied LM head (qwen2 style)', async () => {
    await fullCheck({ ...baseCfg, architecture: 'qwen2', attentionBias: true, tieWordEmbeddings: true });
  });

  it('refuses a 4-bit base', async () => {
    const weights = initLlamaWeights(baseCfg, 1);
    const w = weights.get('model.layers.0.self_attn.q_proj.weight')!;
    const quantized = new Map([['model.layers.0.self_attn.q_proj', quantizeNBits(w.data as Float32Array, w.shape[0]!, w.shape[1]!, { bits: 4, blockSize: 16, symmetric: true })]]);
    await expect(createTrainingStep({ base: { config: baseCfg, weights, quantized }, trainable: { kind: 'full' }, maxPositions: 16, threads: 1 })).rejects.toThrow(/full fine-tuning needs a float base/);
  });
});

describe('layerwise training step head', () => {
  it('gives the same loss and gradients when the head runs a few tokens at a time', async () => {
    const lora: LoraConfig = { r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['q_proj', 'down_proj'] };
    const sites = loraSites(baseCfg, lora);
    const params = initLora(sites, lora.r, 2);
    params.forEach((p) => p.B.forEach((_, i, a) => (a[i] = Math.sin(i) * 0.1)));
    const run = async (headRows?: number) => {
      const e = await loraStep({ config: baseCfg, weights: initLlamaWeights(baseCfg, 4) }, lora, sites, params, { headRows });
      const out = await e.run(makeBatch().batch);
      await e.step.release();
      return out;
    };
    const whole = await run(), chunked = await run(3); // 14 tokens: runs of 3, 3, 3, 3, 2
    expect(Math.abs(chunked.lossSum - whole.lossSum)).toBeLessThan(1e-5 * Math.abs(whole.lossSum));
    whole.grads.forEach((g, i) => {
      for (const k of ['A', 'B'] as const) g[k].forEach((v, j) => expect(Math.abs(chunked.grads[i]![k][j]! - v)).toBeLessThan(1e-5 * (1 + Math.abs(v))));
    });
  });
});

describe('layerwise training step bad input', () => {
  const lora: LoraConfig = { r: 2, lora_alpha: 4, lora_dropout: 0.1, target_modules: ['q_proj'] };
  async function engine() {
    const sites = loraSites(baseCfg, lora);
    const params = initLora(sites, lora.r, 1);
    const e = await loraStep({ config: baseCfg, weights: initLlamaWeights(baseCfg, 1) }, lora, sites, params);
    return { e, sites, params };
  }

  it('names the site whose dropout mask is missing', async () => {
    const { e } = await engine();
    await expect(e.run(makeBatch().batch)).rejects.toThrow(/dropout mask is needed for model\.layers\.0\.self_attn\.q_proj/);
    await e.step.release();
  });

  it('rejects a token id outside the vocabulary', async () => {
    const { e, sites } = await engine();
    const { batch } = makeBatch();
    batch.inputIds[3] = 40n; // vocab 40
    const masks = sites.map((s) => new Uint8Array(batch.B * batch.T * s.inDim).fill(1));
    await expect(e.run(batch, masks)).rejects.toThrow(/token id 40 outside the vocabulary \(size 40\)/);
    await e.step.release();
  });

  it('refuses adapters on different modules per layer', async () => {
    const sites = loraSites(baseCfg, lora).filter((s) => s.layer === 0);
    await expect(loraStep({ config: baseCfg, weights: initLlamaWeights(baseCfg, 1) }, lora, sites, initLora(sites, lora.r, 1))).rejects.toThrow(/every layer must adapt the same modules/);
  });
});
