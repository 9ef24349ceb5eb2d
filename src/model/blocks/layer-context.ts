/**
 * What a decoder layer's code (an architecture file) asks of the graph it is emitted into. The
 * same layer code builds the inference decoder (src/model/decoder) and the training graphs
 * (src/train/graphs); the context decides where tensors come from (initializers by HF name, or
 * graph inputs fed per layer), how a linear runs (per module or fused with the modules sharing its
 * input, float or 4-bit, with or without a LoRA branch) and what attention sees (a KV cache, or
 * the whole sequence with its activations saved for the backward). Layer code never mentions LoRA,
 * quantization or caches.
 *
 * Shapes: N = B·T tokens as rows; heads as [B, heads, T, D].
 */
import type { LlamaConfig } from '../config.js';
import type { GraphBuilder } from '../onnx/builder.js';
import type { AttentionSaved } from './attention.js';

export interface GraphContext {
  readonly g: GraphBuilder;
  readonly cfg: LlamaConfig;
  /**
   * A tensor that is not a linear weight (a norm's gain, a router), by its name under the
   * layer's prefix (`input_layernorm.weight`); in a head context, by its full HF name.
   */
  tensor(name: string): string;
}

export interface LayerForward extends GraphContext {
  /**
   * y = x · Wᵀ (+ b) (+ the module's LoRA branch) for one linear module: x [N, in] → [N, out].
   * An MoE expert's linear runs on the rows routed to it: x [n, in] and `rows` int64 [n], their
   * token–expert pair indices (token · k + slot), which select its dropout mask's rows.
   */
  linear(module: string, x: string, rows?: string): string;
  /** [N, heads·D] → [B, heads, T, D]. */
  toHeads(x: string, heads: number): string;
  /** [B, heads, T, D] → [N, heads·D]. */
  fromHeads(x: string, heads: number): string;
  /** RoPE tables broadcastable to [B, heads, T, R] (R = the architecture's rotary width). */
  readonly rope: { cos: string; sin: string };
  /**
   * Causal attention of this step's q [B, H, T, D] (rotated) on k, v [B, KVH, T, D] (plus the
   * KV cache in inference): the context [B, KVH, G, T, D] and what the backward needs.
   */
  attend(q: string, k: string, v: string): { out: string; saved: AttentionSaved };
  /**
   * Training with an auxiliary loss (the architecture's auxLoss): 1 for a real token, 0 for
   * padding, [N, 1] float; the layer then returns the loss's statistics. Undefined otherwise.
   */
  readonly tokenMask?: string;
}

export interface LayerBackward extends GraphContext {
  /** An activation the forward saved (the architecture's savedActivations). */
  saved(name: string): string;
  readonly rope: { cos: string; sin: string };
  /** The additive attention mask [B, 1, 1, T, T], to recompute the probabilities. */
  readonly maskBias: string;
  /** The attention probabilities the forward saved [B, KVH, G, T, T], when the step saves them (small models). */
  readonly savedProbs?: string;
  toHeads(x: string, heads: number): string;
  fromHeads(x: string, heads: number): string;
  /**
   * Backward of the linears `modules` (exactly one fused group of the architecture, in order)
   * for their output gradients dys [N, out_m]: returns dx [N, in]. LoRA gradients (and, in full
   * fine-tuning, the weight and bias gradients) become graph outputs. `input` rebuilds the
   * modules' common input [N, in]; it is called only when a gradient needs it.
   */
  linearBackward(modules: readonly string[], dys: string[], input: () => string, rows?: string): string;
  /**
   * The forward of a linear module again (with its LoRA branch), where a backward recomputes
   * rather than saves (an MoE expert's activations); same arguments as LayerForward.linear.
   */
  linear(module: string, x: string, rows?: string): string;
  /** The token mask as in LayerForward, when training with the auxiliary loss. */
  readonly tokenMask?: string;
  /** d loss / d an auxiliary-loss statistic this layer returned ([size]), when training with it. */
  auxGrad(name: string): string | undefined;
  /** Whether tensor gradients are wanted (full fine-tuning): then pass them to tensorGrad. */
  readonly wantsTensorGrads: boolean;
  /** Records d loss / d tensor(name) as a graph output. */
  tensorGrad(name: string, grad: string): void;
}

/** The head graph's view: tensors by full HF name, and their gradients in full fine-tuning. */
export interface HeadBackward extends GraphContext {
  readonly wantsTensorGrads: boolean;
  tensorGrad(name: string, grad: string): void;
}
