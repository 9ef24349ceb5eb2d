/**
 * A training step: one forward, loss and backward over a batch, returning the summed token loss
 * and the gradients of what is trained. The trainer (trainer.ts) sees only this interface; today
 * one implementation runs it layer by layer (layerwise-step.ts). What is trained — LoRA branches
 * (lora-training.ts) or every weight (full-training.ts) — is a part of the options, not a branch
 * of the step.
 */
import type { LoraConfig, LoraSite, LoraTensors } from '../lora.js';
import type { BaseModel } from './host-weights.js';

export interface TokenBatch {
  B: number;
  T: number;
  inputIds: BigInt64Array; // [B·T]
  attentionMask: BigInt64Array; // [B·T]
  labels: BigInt64Array; // [B·T], shifted targets, −100 = no loss
  /** Labelled tokens in the batch. */
  tokens: number;
}

/** A trained tensor: the buffer the step feeds (the optimizer updates it in place). */
export interface TrainedTensor {
  /** HF / PEFT tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  shape: number[];
  data: Float32Array;
  /** AdamW weight decay applies (as transformers' Trainer: not to biases and norm gains). */
  decay: boolean;
}

export interface StepResult {
  lossSum: number;
  /**
   * d loss_sum / d tensor, parallel to parameters(). Buffers the step may reuse: read them
   * before the next run.
   */
  grads: Float32Array[];
  /** Wall-clock seconds per phase (for provenance and benchmarks; never part of an artifact). */
  seconds: { forward: number; head: number; backward: number; host: number };
  /** The architecture's auxiliary loss (unweighted; MoE load balancing), when the step was made with one. */
  auxLoss?: number;
}

export interface RunOptions {
  /**
   * The gradients returned are d(loss_sum + auxLossScale · aux)/dθ (default 0: the auxiliary
   * loss is reported, not trained). The trainer passes router_aux_loss_coef × the step's
   * labelled tokens / micro-batches, so that after its division by the tokens the objective is
   * mean cross-entropy + coef × the micro-batches' mean aux.
   */
  auxLossScale?: number;
}

export interface TrainingStep {
  /** The trained tensors, in the optimizer's (and the checkpoint's) order. */
  parameters(): TrainedTensor[];
  /**
   * One forward + backward over the batch. `masks`: uint8 keep-masks per dropout slot when
   * dropout is on (lora.ts dropoutSlots: [B·T, in] per site, [B·T·k, in] per MoE expert kind).
   */
  run(batch: TokenBatch, masks?: Uint8Array[], options?: RunOptions): Promise<StepResult>;
  release(): Promise<void>;
}

/** What a run trains: LoRA branches on `sites` (`params` updated in place), or every weight of a float base. */
export type Trainable = { kind: 'lora'; lora: LoraConfig; sites: LoraSite[]; params: LoraTensors[] } | { kind: 'full' };

export interface TrainingStepOptions {
  /** The base; the step takes its decoder linears apart into fused buffers. */
  base: BaseModel;
  trainable: Trainable;
  /** RoPE table rows (the longest sequence + 1). */
  maxPositions: number;
  threads: number;
  /** Take the decoder linears out of `base` once fused, so a large base is not held twice. Default false. */
  consumeBase?: boolean;
  /** Tokens per run of the head session (default 256): bounds its [rows, vocab] working set. */
  headRows?: number;
  /** Write ONNX Runtime profiles (JSON, one per session) with this path prefix. */
  profilePrefix?: string;
  /** Build the graphs with the architecture's auxiliary loss (its statistics and their gradients); default false. */
  auxLoss?: boolean;
  /**
   * The forward saves the attention probabilities for the backward instead of the backward
   * recomputing them. Default: where they take at most 64 MB per sequence of maxPositions
   * (layers × heads × maxPositions² float32: small models; not TinyLlama-1.1B at 257 positions, 177 MB).
   */
  saveAttentionProbs?: boolean;
  /**
   * 'whole-model': one ONNX Runtime run per micro-batch (small models); 'layerwise': three
   * sessions run per layer; 'auto' (default): createTrainingStep's choice (chooseEngine).
   */
  engine?: 'auto' | 'layerwise' | 'whole-model';
}
