/**
 * Up-front memory estimate of a training run (the paper's "resource-adaptive configuration"):
 * weights as the graph holds them, the activations the backward keeps per token and layer, the
 * loss tensors, and ORT's working space; and, when a step would not fit, the largest
 * configuration that does. Measured against the benchmark (docs/training.md): the estimate is
 * for the session's peak RSS.
 */
import { LINEAR_MODULES, linearShape, type LlamaConfig } from '../model/config.js';

/** Measured ratio of ORT's peak activation memory to the activations the backward needs. */
export const ORT_ACTIVATION_FACTOR = 3;

export interface MemoryEstimate {
  weightBytes: number;
  activationBytes: number;
  lossBytes: number;
  totalBytes: number;
}

export function estimateTrainingMemory(cfg: LlamaConfig, opts: { batchSize: number; seqLength: number; quantizedBits?: number; blockSize?: number; r: number; dropout: boolean }): MemoryEstimate {
  const C = cfg.hiddenSize, F = cfg.intermediateSize, H = cfg.numAttentionHeads, KVH = cfg.numKeyValueHeads, D = cfg.headDim, L = cfg.numHiddenLayers;
  const N = opts.batchSize * opts.seqLength;
  let linear = 0, inSum = 0;
  for (const m of LINEAR_MODULES) {
    const [o, i] = linearShape(cfg, m);
    linear += o * i;
    inSum += i;
  }
  const linearBytes = opts.quantizedBits ? linear * (opts.quantizedBits / 8 + 4 / (opts.blockSize ?? 32)) * L : linear * 4 * L;
  const embedBytes = cfg.vocabSize * C * 4 * (cfg.tieWordEmbeddings ? 1 : 2);
  // Kept for the backward, per token per layer (float32): RMSNorm in/out ×2, q/k/v, attention
  // output, attention probabilities (H·T), gate/up (σ, SiLU and the down input are recomputed),
  // LoRA bottlenecks; + dropout keep-masks (uint8) and their float casts in flight.
  const perTokenLayer = 4 * (4 * C + H * D + 2 * KVH * D + H * D + H * opts.seqLength + 2 * F + LINEAR_MODULES.length * opts.r) + (opts.dropout ? 2 * inSum : 0);
  const activationBytes = perTokenLayer * N * L;
  const lossBytes = 4 * 4 * N * cfg.vocabSize; // logits, log-probs, one-hot, dlogits
  // One layer's dequantized weights and backward temporaries.
  const working = (opts.quantizedBits ? linear * 4 : 0) + 4 * 4 * N * Math.max(F, C);
  // Calibrated on the TinyLlama-1.1B benchmark (docs/training.md): ORT holds prepacked copies of
  // float weights (RSS after load ≈ 1.8 × the fp32 linears) and, at 22 layers, about 3 × the
  // activations the backward needs (allocation planner / memory pattern); the estimate then sits
  // near the measured peaks (int4 11.4 GB, fp32 16.9 GB at batch 4 × 256; int4 4.05 GB at batch 1).
  const heldWeights = (opts.quantizedBits ? linearBytes : 1.8 * linearBytes) + embedBytes;
  // + 10 % margin: at batch 1 the unmargined estimate was 2 % under the measured 4.05 GB.
  const totalBytes = Math.round(1.1 * (heldWeights + ORT_ACTIVATION_FACTOR * activationBytes + lossBytes + working));
  return { weightBytes: Math.round(linearBytes + embedBytes), activationBytes, lossBytes, totalBytes };
}
