/**
 * What the training graphs of a run are built for (architecture, adapted modules, LoRA scaling,
 * full fine-tuning) and the names they share with the training step that feeds them:
 *
 *   inputs   h, dh [N, C]; mask_bias [B, 1, 1, T, T]; cos, sin [T, R]; labels int64 [N]
 *            <layer tensor> (`input_layernorm.weight`), w.<group> [rows, in], b.<group> [rows]
 *            lora.<module>.A [r, in], lora.<module>.B [out, r], mask.<module> uint8 [N, in]
 *            (an MoE expert's: mask.experts.<projection> uint8 [N·k, in], shared by the experts)
 *            saved.<activation> (the forward's outputs, fed to the backward)
 *            token_mask [N, 1] and aux_grad.<statistic> with an auxiliary loss
 *            head: its tensors by HF name (`model.norm.weight`, the LM head)
 *   outputs  h_out, dh_in, loss_sum, dh; grad.<input name> for every trained input;
 *            aux.<statistic> (the forward, with an auxiliary loss)
 *
 * A group is the architecture's set of linears sharing an input (q/k/v, gate/up), held and run
 * as one row-concatenated weight.
 */
import type { DecoderArchitecture, SavedActivation } from '../../model/architectures/index.js';
import type { LlamaConfig } from '../../model/config.js';
import type { NBitsWeight } from '../../model/quantize/nbits.js';
import { InternalError } from '../../core/errors.js';

export interface TrainingGraphSpec {
  config: LlamaConfig;
  arch: DecoderArchitecture;
  /** Modules with a LoRA branch (every layer adapts the same modules). */
  adapted: readonly string[];
  r: number;
  /** lora_alpha / r / (1 − dropout): the dropout's 1/(1 − p) folded into the scaling. */
  scale: number;
  dropout: boolean;
  /** Full fine-tuning: the backward also returns the gradients of the layer's weights, biases and tensors. */
  fullGrads: boolean;
  /** Build with the architecture's auxiliary loss (statistics out of the forward, their gradients into the backward). */
  auxLoss?: boolean;
  /** The forward saves the attention probabilities for the backward (instead of it recomputing them): small models. */
  saveProbs?: boolean;
}

export interface LinearGroup {
  name: string;
  modules: readonly string[];
  /** Output width of each module. */
  widths: number[];
  /** Σ widths: the fused weight's rows. */
  rows: number;
  inDim: number;
  /** The modules carry biases (all of them; a group is all-or-none). */
  bias: boolean;
}

/** A group's 4-bit weight in the MatMulNBits layout (quantize/nbits.ts), rows = Σ out. */
export type GroupQuantized = NBitsWeight;

/** The architecture's linear groups with their shapes. */
export function linearGroups(cfg: LlamaConfig, arch: DecoderArchitecture): LinearGroup[] {
  return Object.entries(arch.linearGroups(cfg)).map(([name, modules]) => {
    const shapes = modules.map((m) => arch.linearShape(cfg, m));
    const biased = modules.map((m) => arch.linearBias(cfg, m));
    if (biased.some((b) => b !== biased[0])) throw new InternalError(`training graphs: linear group ${name} mixes modules with and without bias`);
    if (shapes.some(([, i]) => i !== shapes[0]![1])) throw new InternalError(`training graphs: linear group ${name} mixes input widths`);
    return { name, modules, widths: shapes.map(([o]) => o), rows: shapes.reduce((s, [o]) => s + o, 0), inDim: shapes[0]![1], bias: biased[0]! };
  });
}

/** The group holding `module` and the module's index in it. */
export function groupOf(groups: LinearGroup[], module: string): { group: LinearGroup; index: number } {
  for (const group of groups) {
    const index = group.modules.indexOf(module);
    if (index >= 0) return { group, index };
  }
  throw new InternalError(`training graphs: linear module ${module} is in no group of the architecture`);
}

/**
 * Activations the forward returns for the backward: the architecture's, then the LoRA bottlenecks
 * u [N, r] (not an MoE expert's: its rows are data-dependent, and its backward recomputes it),
 * then the attention probabilities P [B, KVH, G, T, T] when the spec saves them.
 */
export function savedTensors(spec: TrainingGraphSpec): SavedActivation[] {
  const saved = spec.adapted.filter((m) => !isRouted(spec, m)).map((m): SavedActivation => ({ name: `u.${m}`, dims: ['tokens', spec.r] }));
  const { numAttentionHeads: H, numKeyValueHeads: KVH } = spec.config;
  const probs: SavedActivation[] = spec.saveProbs ? [{ name: 'probs', dims: ['batch', KVH, H / KVH, 'seq', 'seq'] }] : [];
  return [...spec.arch.savedActivations(spec.config), ...saved, ...probs];
}

/** Saved attention probabilities allowed per sequence by default (TrainingStepOptions.saveAttentionProbs). */
const SAVED_PROBS_BYTES = 64 * 2 ** 20;

/** Bytes of every layer's attention probabilities for one sequence of T tokens (float32 [H, T, T] per layer). */
export function probsBytesPerSequence(cfg: Pick<LlamaConfig, 'numHiddenLayers' | 'numAttentionHeads'>, T: number): number {
  return 4 * cfg.numHiddenLayers * cfg.numAttentionHeads * T * T;
}

/** The default of TrainingStepOptions.saveAttentionProbs: at most 64 MB of probabilities per sequence of `maxPositions`. */
export function savesAttentionProbs(cfg: Pick<LlamaConfig, 'numHiddenLayers' | 'numAttentionHeads'>, maxPositions: number): boolean {
  return probsBytesPerSequence(cfg, maxPositions) <= SAVED_PROBS_BYTES;
}

/**
 * Decoder linear parameters up to which a model counts as small enough for the whole-model step
 * (step/whole-model-step.ts), which holds every layer's activations in ONNX Runtime at once
 * (≈ 2.5× the saved activations: small-25m, 19 M, at batch 4 × 256 peaked at 1.6 GB against
 * 0.8 GB layer by layer). TinyLlama-1.1B (968 M) and a 474 M MoE run layer by layer.
 */
const WHOLE_MODEL_MAX_PARAMS = 64e6;

/** Whether a run of `maxPositions` suits the whole-model step: a small model whose attention probabilities are saved. */
export function suitsWholeModel(cfg: LlamaConfig, arch: Pick<DecoderArchitecture, 'linearModules' | 'linearShape'>, maxPositions: number): boolean {
  const params = cfg.numHiddenLayers * arch.linearModules(cfg).reduce((n, m) => n + arch.linearShape(cfg, m).reduce((a, b) => a * b, 1), 0);
  return params <= WHOLE_MODEL_MAX_PARAMS && savesAttentionProbs(cfg, maxPositions);
}

/** Whether a module runs on routed token–expert pairs (an MoE expert's). */
export function isRouted(spec: Pick<TrainingGraphSpec, 'arch'>, module: string): boolean {
  return spec.arch.routing?.maskKind(module) !== undefined;
}

/** The graph input holding a module's dropout keep-mask: its own, or the one its experts share. */
export function maskInputName(spec: Pick<TrainingGraphSpec, 'arch'>, module: string): string {
  return `mask.${spec.arch.routing?.maskKind(module) ?? module}`;
}

/** The auxiliary loss's statistics when the graphs are built with it. */
export function auxStatistics(spec: TrainingGraphSpec): Array<{ name: string; size: number }> {
  return spec.auxLoss && spec.arch.auxLoss ? spec.arch.auxLoss.statistics(spec.config) : [];
}
