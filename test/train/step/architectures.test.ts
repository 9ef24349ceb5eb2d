/**
 * The layerwise training step end to end on phi and qwen2_moe (two layers, a right-padded batch
 * with label masks): its loss — and for the MoE the load-balancing loss — equals the float64
 * reference (src/train/reference-decoder.ts), and every returned gradient matches central finite
 * differences of loss_sum + auxLossScale · aux; float and int4 bases, dropout masks per slot;
 * full fine-tuning of phi's head (LayerNorm bias, LM head bias) too.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import { decoderArchitecture, linearWeightNames } from '../../../src/model/architectures/index.js';
import type { LlamaConfig } from '../../../src/model/config.js';
import { dequantizeNBits, quantizeNBits, type NBitsWeight } from '../../../src/model/quantize/nbits.js';
import type { HostTensor } from '../../../src/model/tensor.js';
import { dropoutSlots, initLora, loraSites, resolveTargetModules, type LoraConfig } from '../../../src/train/lora.js';
import type { ReferenceBatch } from '../../../src/train/reference.js';
import { referenceDecoderLoss } from '../../../src/train/reference-decoder.js';
import { createTrainingStep, type TokenBatch } from '../../../src/train/step/index.js';
import { MOE, PHI, tinyModel } from '../../model/llama/fixtures.js';

function makeBatch(): { batch: TokenBatch; ref: ReferenceBatch } {
  const B = 2, T = 7;
  const ids = [5, 9, 3, 17, 22, 8, 31, 4, 12, 29, 7, 11, 0, 0];
  const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
  const labels = [-100, -100, 17, 22, 8, 31, 2, -100, 29, 7, 11, 2, -100, -100];
  return {
    batch: { B, T, inputIds: BigInt64Array.from(ids.map(BigInt)), attentionMask: BigInt64Array.from(mask.map(BigInt)), labels: BigInt64Array.from(labels.map(BigInt)), tokens: labels.filter((l) => l !== -100).length },
    ref: { B, T, ids, attentionMask: mask, labels },
  };
}

/** Projection of the gradient on a random direction against the float64 central difference; relative error. */
function directional(theta: Float64Array, grad: Float32Array, loss: () => number, prng: Prng): number {
  const EPS = 1e-4;
  const dir = Float64Array.from(theta, () => prng.next() - 0.5);
  const saved = Float64Array.from(theta);
  theta.forEach((_, j) => (theta[j] = saved[j]! + EPS * dir[j]!));
  const plus = loss();
  theta.forEach((_, j) => (theta[j] = saved[j]! - EPS * dir[j]!));
  const minus = loss();
  theta.set(saved);
  const fd = (plus - minus) / (2 * EPS);
  let analytic = 0;
  grad.forEach((g, j) => (analytic += g * dir[j]!));
  return Math.abs(analytic - fd) / Math.max(Math.abs(fd), 1e-6);
}

/** The model's quantizable linears as int4 (blocks of 16), and the weights the reference then uses. */
function quantizeBase(cfg: LlamaConfig, weights: Map<string, HostTensor>): Map<string, NBitsWeight> {
  const quantized = new Map<string, NBitsWeight>();
  for (const name of linearWeightNames(cfg)) {
    const w = weights.get(name)!;
    const q = quantizeNBits(w.data as Float32Array, w.shape[0]!, w.shape[1]!, { bits: 4, blockSize: 16, symmetric: false });
    quantized.set(name.slice(0, -'.weight'.length), q);
    weights.set(name, { dtype: 'F32', shape: w.shape, data: dequantizeNBits(q) });
  }
  return quantized;
}

async function loraCheck(overrides: Record<string, unknown>, targets: string[] | string, options: { dropout: number; int4: boolean; auxLossScale?: number }): Promise<void> {
  const { cfg, weights } = tinyModel(overrides, 41);
  const arch = decoderArchitecture(cfg);
  const quantized = options.int4 ? quantizeBase(cfg, weights) : undefined;
  const lora: LoraConfig = { r: 2, lora_alpha: 4, lora_dropout: options.dropout, target_modules: resolveTargetModules(cfg, targets) };
  const sites = loraSites(cfg, lora);
  const params = initLora(sites, lora.r, 3);
  const prng = new Prng(9);
  for (const p of params) p.B.forEach((_, i, a) => (a[i] = Math.fround((prng.next() - 0.5) * 0.5)));
  const { batch, ref } = makeBatch();
  const k = arch.routing?.pairsPerToken(cfg) ?? 1;
  const masks = options.dropout > 0 ? dropoutSlots(sites).map((s) => Uint8Array.from({ length: (s.rows === 'pairs' ? 14 * k : 14) * s.inDim }, () => (prng.next() < options.dropout ? 0 : 1))) : undefined;
  const A64 = params.map((p) => Float64Array.from(p.A)), B64 = params.map((p) => Float64Array.from(p.B));
  const refOf = () => referenceDecoderLoss(cfg, weights, ref, { config: lora, sites, A: A64, B: B64, masks });

  // The step consumes nothing of the base here (consumeBase false), so `weights` stays the reference's.
  const step = await createTrainingStep({ base: { config: cfg, weights: new Map(weights), quantized }, trainable: { kind: 'lora', lora, sites, params }, maxPositions: 16, threads: 1, auxLoss: options.auxLossScale !== undefined });
  const out = await step.run(batch, masks, { auxLossScale: options.auxLossScale });
  await step.release();
  const r = refOf();
  expect(Math.abs(out.lossSum - r.lossSum) / r.lossSum, 'loss_sum').toBeLessThan(1e-5);
  const scale = options.auxLossScale ?? 0;
  if (options.auxLossScale !== undefined) {
    expect(r.auxLoss).toBeGreaterThan(0.5);
    expect(Math.abs(out.auxLoss! - r.auxLoss) / r.auxLoss, 'aux loss').toBeLessThan(1e-5);
  } else expect(out.auxLoss).toBeUndefined();
  const objective = () => {
    const o = refOf();
    return o.lossSum + scale * o.auxLoss;
  };
  sites.forEach((site, i) => {
    expect(directional(A64[i]!, out.grads[2 * i]!, objective, prng), `${site.path}.lora_A`).toBeLessThan(1e-3);
    expect(directional(B64[i]!, out.grads[2 * i + 1]!, objective, prng), `${site.path}.lora_B`).toBeLessThan(1e-3);
  });
}

describe('layerwise training step: phi', () => {
  it('LoRA on all six modules with dropout: loss and every gradient match the float64 reference', async () => {
    await loraCheck(PHI, 'all-linear', { dropout: 0.2, int4: false });
  });

  it('QLoRA (int4 base), tied embeddings, GQA 4:2', async () => {
    await loraCheck({ ...PHI, tie_word_embeddings: true, num_key_value_heads: 2 }, ['q_proj', 'dense', 'fc2'], { dropout: 0, int4: true });
  });

  it('full fine-tuning: the LM head bias, the final LayerNorm and every other weight match finite differences', async () => {
    const { cfg, weights } = tinyModel({ ...PHI, num_hidden_layers: 1 }, 43);
    const w64 = new Map([...weights].map(([name, t]) => [name, { dtype: 'F64' as const, shape: t.shape, data: Float64Array.from(t.data as Float32Array) }]));
    const step = await createTrainingStep({ base: { config: cfg, weights }, trainable: { kind: 'full' }, maxPositions: 16, threads: 1, headRows: 5 });
    const { batch, ref } = makeBatch();
    const out = await step.run(batch);
    const params = step.parameters();
    await step.release();
    const none: LoraConfig = { r: 1, lora_alpha: 1, lora_dropout: 0, target_modules: [] };
    const loss = () => referenceDecoderLoss(cfg, w64, ref, { config: none, sites: [], A: [], B: [] }).lossSum;
    expect(Math.abs(out.lossSum - loss()) / loss()).toBeLessThan(1e-5);
    expect(params.map((p) => p.name).sort()).toEqual([...weights.keys()].sort());
    expect(params.filter((p) => !p.decay).map((p) => p.name).sort()).toContain('lm_head.bias');
    const prng = new Prng(19);
    params.forEach((p, i) => expect(directional(w64.get(p.name)!.data, out.grads[i]!, loss, prng), p.name).toBeLessThan(1e-3));
  });
});

describe('layerwise training step: qwen2_moe', () => {
  it('LoRA on attention, router, every expert and the shared expert with dropout on pair rows; the load-balancing loss and its gradient', async () => {
    await loraCheck({ ...MOE, output_router_logits: true }, 'all-linear', { dropout: 0.2, int4: false, auxLossScale: 3 });
  });

  it('QLoRA: experts int4, router and shared gate float; norm_topk_prob, top-3', async () => {
    // In-features multiples of the block size (16), as QLoRA needs.
    await loraCheck({ ...MOE, norm_topk_prob: true, num_experts_per_tok: 3, moe_intermediate_size: 32, shared_expert_intermediate_size: 48 }, ['q_proj', 'gate_proj', 'down_proj'], { dropout: 0.1, int4: true, auxLossScale: 0.5 });
  });

  it('without the auxiliary loss the step reports none', async () => {
    await loraCheck(MOE, ['up_proj'], { dropout: 0, int4: false });
  });
});
