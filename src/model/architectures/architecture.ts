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

export interface DecoderArchitecture {
  readonly modelType: Architecture;
  /** The linear modules of one layer in HF order: the LoRA targets and the quantized weights. */
  readonly linearModules: readonly string[];
  /**
   * Modules that share their input, in layer order; every module in exactly one group. Training
   * runs a group as one matmul on the row-concatenated weights (q/k/v, gate/up).
   */
  readonly linearGroups: Readonly<Record<string, readonly string[]>>;
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
  /** One decoder layer: h [N, C] → h [N, C], and the activations named by savedActivations. */
  layerForward(cx: LayerForward, h: string): { h: string; saved: Record<string, string> };
  /** d h_in [N, C] from d h_out, reading the saved activations from the context. */
  layerBackward(cx: LayerBackward, dh: string): string;
  /** The final norm before the LM head: y [N, C], and a backward from dy to dh (recording the norm's tensor gradients). */
  finalNorm(cx: GraphContext, h: string): { y: string; backward(cx: HeadBackward, dy: string): string };
}
