/**
 * Up-front memory estimate of a training run (the paper's "resource-adaptive configuration") for
 * the layerwise training step (step/layerwise-step.ts): what it holds for a whole step, what one layer's ONNX Runtime
 * session needs on top, and the process's fixed cost; for a small model, what the whole-model
 * step (step/whole-model-step.ts) holds in ONNX Runtime on top of that. Calibrated against the benchmark's peak
 * RSS (docs/training.md); the stage refuses a configuration whose estimate exceeds
 * `max_memory_gb` and proposes the largest one that fits.
 */
import { probsBytesPerSequence, savesAttentionProbs, suitsWholeModel } from './graphs/spec.js';
import { UserError } from '../core/errors.js';
import { decoderArchitecture } from '../model/architectures/index.js';
import type { LlamaConfig } from '../model/config.js';
import type { TrainingArguments } from './arguments.js';

export interface MemoryEstimate {
  /** Base weights as the step holds them (float once; 4-bit: host codes, counted twice (see below), + one layer dequantized). */
  weightBytes: number;
  /** Activations saved from the forward for the backward, all layers, + dropout masks. */
  activationBytes: number;
  /** The head session: logits, log-probabilities, softmax and its scatter, [256, V] each (layerwise-step.ts HEAD_ROWS). */
  lossBytes: number;
  /** One layer's ORT working set (a small model's: the whole-model run's), trained tensors' gradients / AdamW moments / best copy, an MoE's per-expert graph share, the process itself. */
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
  /** Adapted modules per layer (default all of the architecture's linears). */
  targetModules?: readonly string[];
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
/**
 * An MoE's per-expert share of the layer graphs and their ONNX Runtime sessions (each expert is
 * its own Gather, linears, LoRA branches and Scatter in the forward, the recomputing backward and
 * every 4-bit layer's session), per expert and layer. Fitted to one measured MoE (474 M
 * parameters, 8 layers × 32 experts, top 4, int4, LoRA on all linears; docs/training.md): peak
 * RSS 2.26 GiB at batch 1, 3.04 GiB at batch 4, which the estimate without it missed by 0.37 and
 * 0.29 GiB (a dense llama of the same size was missed by 0.21 GiB: part of this is not the experts',
 * so the term errs high for a large MoE).
 */
const EXPERT_LAYER_BYTES = 1.4 * 2 ** 20;
/**
 * A small model runs as one whole-model ONNX Runtime run per micro-batch (step/index.ts
 * chooseEngine, graphs/spec.ts suitsWholeModel): ORT's arena then holds every
 * layer's saved activations and the intermediates around them, in multiples of the saved bytes.
 * Fitted to small-25m at batch 4 × 256 (peak RSS 1.60 GB LoRA fp32, 1.64 GB LoRA int4, 1.55 GB
 * full, against 0.78 / 0.70 / 0.95 GB layer by layer; docs/training.md); errs high for full
 * fine-tuning (2.0 GB estimated).
 */
const WHOLE_MODEL_ACTIVATIONS = 2.5;
/** Headroom over the fitted sum (allocator fragmentation, V8 heap). */
const MARGIN = 1.1;

export function estimateTrainingMemory(cfg: LlamaConfig, opts: MemoryOptions): MemoryEstimate {
  const arch = decoderArchitecture(cfg);
  const C = cfg.hiddenSize, L = cfg.numHiddenLayers;
  const N = opts.batchSize * opts.seqLength;
  const full = opts.trainable === 'full';
  const modules = full ? [] : (opts.targetModules ?? arch.linearModules(cfg));
  // An MoE expert's linear sees k of every E tokens on average; its LoRA dropout mask is shared
  // by the experts of its projection, one row per token–expert pair (k rows per token).
  const k = arch.routing?.pairsPerToken(cfg) ?? 1;
  const maskKinds = new Set<string>();
  let layerLinear = 0, quantizedLinear = 0, maskBytesPerToken = 0, loraParams = 0, savedU = 0;
  for (const m of arch.linearModules(cfg)) {
    const [o, i] = arch.linearShape(cfg, m);
    layerLinear += o * i;
    if (!arch.unquantized?.includes(m)) quantizedLinear += o * i;
    if (!modules.includes(m)) continue;
    loraParams += opts.r * (o + i);
    const kind = arch.routing?.maskKind(m);
    if (kind === undefined) {
      savedU += opts.r;
      maskBytesPerToken += opts.dropout ? i : 0;
    } else if (!maskKinds.has(kind)) {
      maskKinds.add(kind);
      maskBytesPerToken += opts.dropout ? k * i : 0;
    }
  }
  const embedBytes = cfg.vocabSize * C * 4 * (cfg.tieWordEmbeddings ? 1 : 2);
  const bs = opts.blockSize ?? 32;
  // 4-bit: the host codes twice, one layer dequantized (the scratch every layer run is fed), and the
  // linears kept float. The second copy was ORT's prepacked codes, which the step no longer makes
  // (graphs/layer-inputs.ts); it stays as margin until the MoE fit below is measured again
  // (TinyLlama-1.1B int4 now peaks at 4.61 GiB against 5.5 estimated, and 4.9 without the copy).
  const weightBytes = opts.quantizedBits
    ? 2 * quantizedLinear * L * (opts.quantizedBits / 8 + 4 / bs + 0.5 / bs) + layerLinear * 4 + (layerLinear - quantizedLinear) * L * 4 + embedBytes
    : layerLinear * L * 4 + embedBytes;
  // Saved per token and layer (the architecture's savedActivations: for llama two RMSNorm x̂ and
  // 1/rms, q, k, v, gate and up), and the LoRA bottlenecks (not an expert's: recomputed); float32.
  const savedFloats = savedFloatsPerToken(cfg) + savedU;
  // A small model's step also saves the attention probabilities (graphs/spec.ts savesAttentionProbs).
  const probsBytes = savesAttentionProbs(cfg, opts.seqLength + 1) ? opts.batchSize * probsBytesPerSequence(cfg, opts.seqLength) : 0;
  const activationBytes = N * L * (4 * savedFloats + maskBytesPerToken) + probsBytes;
  const lossBytes = 4 * Math.min(N, 256) * cfg.vocabSize * 4;
  // AdamW: step gradient, micro-batch gradient, two moments, best copy (+ the LoRA tensors
  // themselves; full fine-tuning's weights are counted in weightBytes).
  const trainedBytes = full ? 5 * (layerLinear * L * 4 + embedBytes + (2 * L + 1) * C * 4) : 6 * 4 * loraParams * L;
  const expertBytes = EXPERT_LAYER_BYTES * L * (arch.routing?.experts(cfg) ?? 0);
  // The whole-model step (a small model): its arena's activations, and a 4-bit base dequantized for every layer's backward at once.
  const whole = suitsWholeModel(cfg, arch, opts.seqLength + 1);
  const wholeBytes = whole ? WHOLE_MODEL_ACTIVATIONS * activationBytes + (opts.quantizedBits ? quantizedLinear * (L - 1) * 4 : 0) : 0;
  const workingBytes = WORKING_NF * N * Math.max(mlpWidthPerToken(cfg), C) * 4 + trainedBytes + expertBytes + wholeBytes + PROCESS_BYTES;
  const parts = { weightBytes: Math.round(weightBytes), activationBytes, lossBytes, workingBytes: Math.round(workingBytes) };
  return { ...parts, totalBytes: Math.round(MARGIN * (parts.weightBytes + parts.activationBytes + parts.lossBytes + parts.workingBytes)) };
}

/** The MLP's hidden features per token: F, or for an MoE the shared expert's plus k routed experts'. */
function mlpWidthPerToken(cfg: LlamaConfig): number {
  const m = cfg.moe;
  return m ? m.sharedExpertIntermediateSize + m.numExpertsPerTok * m.moeIntermediateSize : cfg.intermediateSize;
}

/** LoRA parameters of a run: r · (in + out) per adapted module and layer. */
function loraParameters(cfg: LlamaConfig, opts: Pick<MemoryOptions, 'r' | 'targetModules' | 'trainable'>): number {
  if (opts.trainable === 'full') return 0;
  const arch = decoderArchitecture(cfg);
  const modules = opts.targetModules ?? arch.linearModules(cfg);
  let n = 0;
  for (const m of modules) {
    const [o, i] = arch.linearShape(cfg, m);
    n += opts.r * (o + i);
  }
  return n * cfg.numHiddenLayers;
}

/** Floats a layer saves per token: each saved activation's size with its token dims (N, or B and T) taken as one. */
function savedFloatsPerToken(cfg: LlamaConfig): number {
  let floats = 0;
  for (const a of decoderArchitecture(cfg).savedActivations(cfg)) floats += a.dims.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
  return floats;
}

const GB = 2 ** 30;

/**
 * The estimate for `per_device_train_batch_size` × the longest example, or a UserError when it is
 * over `budgetBytes`, proposing (in the pipeline's own parameter names) the largest configuration
 * that fits: a smaller batch with more accumulation (same effective batch), then batch 1 with a
 * shorter max_seq_length, else a quantized base.
 */
export function requireTrainingMemory(cfg: LlamaConfig, opts: Omit<MemoryOptions, 'batchSize' | 'seqLength'>, args: Pick<TrainingArguments, 'per_device_train_batch_size' | 'gradient_accumulation_steps'>, longest: number, budgetBytes: number): MemoryEstimate {
  const estimate = (batchSize: number, seqLength: number): MemoryEstimate => estimateTrainingMemory(cfg, { ...opts, batchSize, seqLength });
  const need = estimate(args.per_device_train_batch_size, longest);
  if (need.totalBytes <= budgetBytes) return need;
  const fmt = (b: number) => `${Number((b / GB).toPrecision(3))} GB`;
  const batch = args.per_device_train_batch_size;
  const effective = batch * args.gradient_accumulation_steps;
  const lines = [`lora-train: one step at per_device_train_batch_size ${batch} × ${longest} tokens needs about ${fmt(need.totalBytes)}, more than the ${fmt(budgetBytes)} available (max_memory_gb).`];
  const advice = (): string => {
    for (let b = batch - 1; b >= 1; b--) {
      const bytes = estimate(b, longest).totalBytes;
      if (bytes <= budgetBytes) return `Fits: per_device_train_batch_size ${b} with gradient_accumulation_steps ${Math.ceil(effective / b)} (same effective batch ≈ ${effective}) — about ${fmt(bytes)}.`;
    }
    for (let t = Math.floor(longest / 2); t >= 8; t = Math.floor(t / 2)) {
      const bytes = estimate(1, t).totalBytes;
      if (bytes <= budgetBytes) return `Fits: per_device_train_batch_size 1, gradient_accumulation_steps ${effective}, max_seq_length ${t} — about ${fmt(bytes)}.`;
    }
    if (!opts.quantizedBits) return 'Even batch 1 with 8 tokens does not fit: use a quantized base (quantize stage, bits 4) or a machine with more memory.';
    // Already 4-bit: what is left to cut is the adapter (its tensors, gradients and AdamW moments).
    return `Even batch 1 with 8 tokens does not fit on this 4-bit base: adapt fewer modules (target_modules; the LoRA tensors and their optimizer state take about ${fmt(6 * 4 * loraParameters(cfg, opts))}) or use a machine with more memory.`;
  };
  lines.push(advice());
  throw new UserError('insufficient-memory', lines.join(' '));
}
