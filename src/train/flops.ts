/**
 * Floating-point operations of one training step of the LoRA graph (multiply-add = 2 FLOPs),
 * counted from the shapes: what the benchmark divides by the step time, and what the stage
 * records as achieved FLOP/s.
 */
import { decoderArchitecture } from '../model/architectures/index.js';
import type { LlamaConfig } from '../model/config.js';
import type { LoraSite } from './lora.js';

export interface StepFlops {
  /** Base projections and LM head, forward. */
  baseForward: number;
  /** Data-gradients dX = dY·W through the frozen base and LM head. */
  baseBackward: number;
  /** QKᵀ and P·V forward, and their four backward matmuls. */
  attention: number;
  /** LoRA branches forward and backward. */
  lora: number;
  /** Full fine-tuning: weight gradients dW = dYᵀ·X of every linear and the LM head (0 for LoRA). */
  weightGradients: number;
  total: number;
}

export function trainingStepFlops(cfg: LlamaConfig, B: number, T: number, sites: LoraSite[], r: number, full = false): StepFlops {
  const N = B * T;
  const arch = decoderArchitecture(cfg);
  let layerParams = 0;
  for (const m of arch.linearModules) {
    const [o, i] = arch.linearShape(cfg, m);
    layerParams += o * i;
  }
  const linearParams = cfg.numHiddenLayers * layerParams + cfg.vocabSize * cfg.hiddenSize;
  const baseForward = 2 * N * linearParams;
  const baseBackward = baseForward;
  // forward 2 matmuls, backward 4, each 2·B·H·T·T·D
  const attention = cfg.numHiddenLayers * 6 * 2 * B * cfg.numAttentionHeads * T * T * cfg.headDim;
  let lora = 0;
  for (const s of sites) lora += 2 * N * r * (3 * s.inDim + 3 * s.outDim);
  const weightGradients = full ? baseForward : 0;
  return { baseForward, baseBackward, attention, lora, weightGradients, total: baseForward + baseBackward + attention + lora + weightGradients };
}
