/**
 * One decoder architecture (an HF `model_type`): its checkpoint layout and its layer, written once
 * from the blocks (src/model/blocks) for the inference decoder and the training graphs alike.
 * Each architecture is a file of its own in this folder, listed in index.ts; adding one (phi, an
 * MoE) is a new file, not branches in the graph builders or the training step.
 */
import type { Architecture, LlamaConfig } from '../config.js';
import type { GraphContext, HeadBackward, LayerBackward, LayerForward } from '../blocks/layer-context.js';

/** A symbolic or static dimension of a saved activation: N = B·T rows, B, T, or a size. */
export type SavedDim = 'tokens' | 'batch' | 'seq' | number;

export interface SavedActivation {
  name: string;
  dims: SavedDim[];
}

/** A tensor by name (under the layer prefix, or a full HF name) and its shape. */
export interface TensorSpec {
  name: string;
  shape: number[];
}

/**
 * A training loss term that is a function of statistics every layer's forward outputs (float32
 * vectors). The step sums nothing itself: it hands every layer's statistics to `combine`, adds the
 * loss, and feeds each layer's backward the gradient of its statistics (`aux_grad.<name>`).
 */
export interface AuxiliaryLoss {
  /** The statistics a layer returns, by name, with their length. */
  statistics(cfg: LlamaConfig): Array<{ name: string; size: number }>;
  /** Whether training adds the term for this config, and its weight. */
  weight(cfg: LlamaConfig): number;
  /** The (unweighted) loss from every layer's statistics and `tokens` unpadded tokens; d loss / d each layer's statistics. */
  combine(cfg: LlamaConfig, layers: Array<Record<string, Float32Array>>, tokens: number): { loss: number; grads: Array<Record<string, Float32Array>> };
}

export interface DecoderArchitecture {
  readonly modelType: Architecture;
  /**
   * The linear modules of one layer in HF order, named as under the layer's attention or MLP
   * (`q_proj`, `experts.3.up_proj`): the LoRA targets and the quantized weights.
   */
  linearModules(cfg: LlamaConfig): readonly string[];
  /**
   * Modules that share their input, in layer order; every module in exactly one group. Training
   * runs a group as one matmul on the row-concatenated weights (q/k/v, gate/up).
   */
  linearGroups(cfg: LlamaConfig): Readonly<Record<string, readonly string[]>>;
  /** [out, in] of a module (HF stores weights as [out, in]). */
  linearShape(cfg: LlamaConfig, module: string): [number, number];
  /** HF module path, e.g. `model.layers.3.mlp.up_proj`. */
  linearPath(layer: number, module: string): string;
  /** Whether the module has a bias `<path>.bias` [out]. */
  linearBias(cfg: LlamaConfig, module: string): boolean;
  /** Per-layer tensors other than the linears' weights and biases (norm gains), under the layer prefix, in checkpoint order. */
  layerTensors(cfg: LlamaConfig): TensorSpec[];
  /** The token embedding [V, C]. */
  readonly embedding: string;
  /** The head's tensors other than the LM head weight (the final norm's; an LM head bias), full HF names, in checkpoint order. */
  headTensors(cfg: LlamaConfig): TensorSpec[];
  /** The LM head: its weight [V, C] (the embedding when tied) and, where it has one, its bias [V] (one of headTensors). */
  lmHead(cfg: LlamaConfig): { weight: string; bias?: string };
  /** The config.json `hidden_act` values its MLP computes (others are refused before a graph is built). */
  readonly hiddenActivations: readonly string[];
  /** Features of each head that RoPE rotates (D; less with partial rotary). */
  rotaryDim(cfg: LlamaConfig): number;
  /** The activations a layer's forward saves for its backward (the training step holds them). */
  savedActivations(cfg: LlamaConfig): SavedActivation[];
  /**
   * MoE: the modules whose rows are token–expert pairs (an expert sees only the tokens routed to
   * it), k pairs per token; `maskKind` names the dropout mask a routed module shares with the
   * same projection of the other experts (each pair is routed to one expert, so one [N·k, in]
   * mask per kind and layer gives every expert independent rows). Absent for dense layers.
   */
  readonly routing?: { pairsPerToken(cfg: LlamaConfig): number; experts(cfg: LlamaConfig): number; maskKind(module: string): string | undefined };
  /** Linear modules kept float32 in a quantized (int4) model: MoE's router and shared-expert gate. */
  readonly unquantized?: readonly string[];
  /** An auxiliary training loss built from per-layer statistics (MoE's load balancing). */
  readonly auxLoss?: AuxiliaryLoss;
  /** One decoder layer: h [N, C] → h [N, C], the activations named by savedActivations and, with cx.tokenMask, the auxiliary loss's statistics. */
  layerForward(cx: LayerForward, h: string): { h: string; saved: Record<string, string>; aux?: Record<string, string> };
  /** d h_in [N, C] from d h_out, reading the saved activations from the context. */
  layerBackward(cx: LayerBackward, dh: string): string;
  /** The final norm before the LM head: y [N, C], and a backward from dy to dh (recording the norm's tensor gradients). */
  finalNorm(cx: GraphContext, h: string): { y: string; backward(cx: HeadBackward, dy: string): string };
}
