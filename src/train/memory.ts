/**
 * Up-front memory estimate of a training run (the paper's "resource-adaptive configuration") for
 * the per-layer engine (engine.ts): what it holds for a whole step, what one layer's ONNX Runtime
 * session needs on top, and the process's fixed cost. Calibrated against the benchmark's peak
 * RSS (docs/training.md); the stage refuses a configuration whose estimate exceeds
 * `max_memory_gb` and proposes the largest one that fits.
 */
import { LINEAR_MODULES, linearShape, type LinearModule, type LlamaConfig } from '../model/config.js';

export interface MemoryEstimate {
  /** Base weights as the engine holds them (float once; 4-bit: host codes + ORT's prepacked copies + one layer dequantized). */
  weightBytes: number;
  /** Activations saved from the forward for the backward, all layers, + dropout masks. */
  activationBytes: number;
  /** The head session: logits, log-probabilities, softmax and its scatter, [256, V] each (engine.ts HEAD_ROWS). */
  lossBytes: number;
  /** One layer's ORT working set, trained tensors' gradients / AdamW moments / best copy, the process itself. */
  workingBytes: number;
  /** The sum of the parts with 10 % headroom. */
  totalBytes: number;
}

export interface MemoryOptions {
  batchSize: number;
  seqLength: number;
  /** 4 for a quantized (QLoRA) base; absent for float. */
  quantizedBits?: number;
  blockSize?: number;
  r: number;
  dropout: boolean;
  /** Adapted modules per layer (default all seven). */
  targetModules?: readonly LinearModule[];
  /** `full`: every weight trained (float base): gradients, AdamW moments and the best copy of the whole model. */
  trainable?: 'lora' | 'full';
}

/** Node, ONNX Runtime and the tokenizer before any weight is read (measured: 0.2 GB). */
const PROCESS_BYTES = 0.25 * 2 ** 30;
/**
 * One layer's ORT working set in units of [N, F] float32 tensors: the backward's gate/up
 * gradients, SiLU terms and dY concatenation, the arena's power-of-two growth, the binding's
 * output copies. Fitted to the 1.1B benchmark's peak (int4, batch 4 × 256: 5.06–5.23 GiB).
 */
const WORKING_NF = 32;
/** Headroom over the fitted sum (allocator fragmentation, V8 heap). */
const MARGIN = 1.1;

export function estimateTrainingMemory(cfg: LlamaConfig, opts: MemoryOptions): MemoryEstimate {
  const C = cfg.hiddenSize, F = cfg.intermediateSize, H = cfg.numAttentionHeads, KVH = cfg.numKeyValueHeads, D = cfg.headDim, L = cfg.numHiddenLayers;
  const N = opts.batchSize * opts.seqLength;
  const full = opts.trainable === 'full';
  const modules = full ? [] : (opts.targetModules ?? LINEAR_MODULES);
  let layerLinear = 0, maskBytesPerToken = 0, loraParams = 0;
  for (const m of LINEAR_MODULES) {
    const [o, i] = linearShape(cfg, m);
    layerLinear += o * i;
    if (modules.includes(m)) {
      maskBytesPerToken += opts.dropout ? i : 0;
      loraParams += opts.r * (o + i);
    }
  }
  const embedBytes = cfg.vocabSize * C * 4 * (cfg.tieWordEmbeddings ? 1 : 2);
  const bs = opts.blockSize ?? 32;
  const weightBytes = opts.quantizedBits
    ? 2 * layerLinear * L * (opts.quantizedBits / 8 + 4 / bs + 0.5 / bs) + layerLinear * 4 + embedBytes
    : layerLinear * L * 4 + embedBytes;
  // Saved per token and layer (layer-graph.ts savedTensors): two RMSNorm x̂ and 1/rms, q, k, v,
  // gate and up, the LoRA bottlenecks; float32.
  const savedFloats = 2 * (C + 1) + H * D + 2 * KVH * D + 2 * F + modules.length * opts.r;
  const activationBytes = N * L * (4 * savedFloats + maskBytesPerToken);
  const lossBytes = 4 * Math.min(N, 256) * cfg.vocabSize * 4;
  // AdamW: step gradient, micro-batch gradient, two moments, best copy (+ the LoRA tensors
  // themselves; full fine-tuning's weights are counted in weightBytes).
  const trainedBytes = full ? 5 * (layerLinear * L * 4 + embedBytes + (2 * L + 1) * C * 4) : 6 * 4 * loraParams * L;
  const workingBytes = WORKING_NF * N * Math.max(F, C) * 4 + trainedBytes + PROCESS_BYTES;
  const parts = { weightBytes: Math.round(weightBytes), activationBytes, lossBytes, workingBytes: Math.round(workingBytes) };
  return { ...parts, totalBytes: Math.round(MARGIN * (parts.weightBytes + parts.activationBytes + parts.lossBytes + parts.workingBytes)) };
}
