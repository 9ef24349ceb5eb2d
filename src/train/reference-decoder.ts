/**
 * A float64 reference of the LoRA-augmented training objective for every architecture (the
 * forward of src/model/reference/decoder.ts with a LoRA projector), to check the training graphs
 * and step by finite differences: the summed token cross-entropy and, for an MoE, transformers'
 * load-balancing loss. Batches are right-padded as the trainer makes them; dropout masks are the
 * step's (one per slot, lora.ts dropoutSlots), rows of tokens or of token–expert pairs.
 */
import type { LlamaConfig } from '../model/config.js';
import { baseProjector, float64Of, referenceAuxLoss, referenceHead, referenceHidden, referenceLayer, type Projector, type ReferenceRows, type RouterStats } from '../model/reference/decoder.js';
import { linear } from '../model/reference/kernels.js';
import type { HostTensor } from '../model/tensor.js';
import type { LoraConfig, LoraSite } from './lora.js';
import { IGNORE_INDEX, type ReferenceBatch } from './reference.js';

export interface DecoderReferenceLora {
  config: LoraConfig;
  sites: LoraSite[];
  A: Float64Array[]; // per site [r, in]
  B: Float64Array[]; // per site [out, r]
  /** Keep-masks per dropout slot (site.maskSlot), 0/1, scaled by 1/(1 − p) as PEFT does. */
  masks?: Uint8Array[];
}

/** The base linears plus each site's s · (x ⊙ mask / (1 − p)) · Aᵀ · Bᵀ; an expert's mask rows are its pairs'. */
export function loraProjector(cfg: LlamaConfig, weights: Map<string, HostTensor>, lora: DecoderReferenceLora): Projector {
  const base = baseProjector(cfg, float64Of(weights));
  const index = new Map(lora.sites.map((s, i) => [`${s.layer}:${s.module}`, i]));
  const { r, lora_alpha, lora_dropout } = lora.config;
  return (x, rows, layer, module, routed) => {
    const y = base(x, rows, layer, module);
    const i = index.get(`${layer}:${module}`);
    if (i === undefined) return y;
    const site = lora.sites[i]!;
    const mask = lora.masks?.[site.maskSlot];
    let xd = x;
    if (mask) {
      xd = new Float64Array(x.length);
      for (let n = 0; n < rows; n++) {
        const row = routed ? routed[n]! : n;
        for (let c = 0; c < site.inDim; c++) xd[n * site.inDim + c] = (x[n * site.inDim + c]! * mask[row * site.inDim + c]!) / (1 - lora_dropout);
      }
    }
    const z = linear(linear(xd, rows, lora.A[i]!, r, site.inDim), rows, lora.B[i]!, site.outDim, r);
    for (let j = 0; j < y.length; j++) y[j] += (lora_alpha / r) * z[j]!;
    return y;
  };
}

const rowsOf = (batch: Pick<ReferenceBatch, 'B' | 'T' | 'attentionMask'> & { ids?: number[] }): ReferenceRows => ({ B: batch.B, T: batch.T, ids: batch.ids ?? [], attentionMask: batch.attentionMask });

/** Σ cross-entropy over labelled tokens, and the (unweighted) load-balancing loss of an MoE (0 otherwise). */
export function referenceDecoderLoss(cfg: LlamaConfig, weights: Map<string, HostTensor>, batch: ReferenceBatch, lora: DecoderReferenceLora): { lossSum: number; auxLoss: number } {
  const get = float64Of(weights);
  const stats: RouterStats[] = [];
  const N = batch.B * batch.T, V = cfg.vocabSize;
  const logits = referenceHead(cfg, get, referenceHidden(cfg, get, rowsOf(batch), loraProjector(cfg, weights, lora), stats), N);
  let lossSum = 0;
  for (let n = 0; n < N; n++) {
    const label = batch.labels[n]!;
    if (label === IGNORE_INDEX) continue;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[n * V + v]!);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[n * V + v]! - max);
    lossSum += max + Math.log(sum) - logits[n * V + label]!;
  }
  return { lossSum, auxLoss: referenceAuxLoss(stats, batch.attentionMask.filter((m) => m !== 0).length) };
}

/** One layer on h [B·T, C]: its output and (MoE) router statistics. */
export function referenceDecoderLayer(cfg: LlamaConfig, weights: Map<string, HostTensor>, layer: number, h: Float64Array, batch: Pick<ReferenceBatch, 'B' | 'T' | 'attentionMask'>, lora: DecoderReferenceLora): { h: Float64Array; stats: RouterStats[] } {
  const stats: RouterStats[] = [];
  const out = referenceLayer(cfg, float64Of(weights), rowsOf(batch), loraProjector(cfg, weights, lora), layer, Float64Array.from(h), stats);
  return { h: out, stats };
}
