/**
 * The self-attention sub-layer (HF's `LlamaAttention`) as a forward/backward pair: q/k/v
 * projections, RoPE on q and k (the first R features of each head), causal GQA attention and the
 * output projection. Biases, quantization and LoRA are the context's linears; the KV cache is the
 * context's attend.
 *
 *   x [N, C] → q [B, H, T, D], k, v [B, KVH, T, D] → context [B, KVH, G, T, D] → y [N, C]
 */
import { attentionBackward, attentionProbs, type AttentionSaved } from './attention.js';
import type { LayerBackward, LayerForward } from './layer-context.js';
import { ropeBackward, ropeForward } from './rope.js';

/** The module names of the four projections (phi calls the output projection `dense`). */
export interface AttentionModules {
  q: string;
  k: string;
  v: string;
  o: string;
}

export interface SelfAttentionShape {
  H: number;
  KVH: number;
  D: number;
  /** Rotary width R ≤ D (partial rotary: phi). */
  rotary: number;
}

export function selfAttentionForward(cx: LayerForward, x: string, m: AttentionModules, s: SelfAttentionShape): { y: string; saved: AttentionSaved } {
  const { g, rope } = cx;
  const q = ropeForward(g, cx.toHeads(cx.linear(m.q, x), s.H), rope.cos, rope.sin, s.D, s.rotary);
  const k = ropeForward(g, cx.toHeads(cx.linear(m.k, x), s.KVH), rope.cos, rope.sin, s.D, s.rotary);
  const v = cx.toHeads(cx.linear(m.v, x), s.KVH);
  const att = cx.attend(q, k, v);
  const merged = cx.fromHeads(g.reshape(att.out, [0, s.H, -1, s.D]), s.H); // [N, H·D]
  return { y: cx.linear(m.o, merged), saved: att.saved };
}

/**
 * Backward for dy [N, C] from the saved q5, k5, v5 (the probabilities, and the o projection's
 * input where a gradient needs it, are recomputed: QKᵀ and P·V are < 1 % of a large layer's
 * FLOPs, while P would be the largest saved tensor). A small model's step saves P instead
 * (cx.savedProbs): there the mask, softmax and QKᵀ recomputed are a quarter of a tiny model's
 * backward. `input` rebuilds x for the q/k/v gradients.
 */
export function selfAttentionBackward(cx: LayerBackward, dy: string, saved: Omit<AttentionSaved, 'probs'>, m: AttentionModules, s: SelfAttentionShape, input: () => string): string {
  const { g, rope } = cx;
  const { H, KVH, D } = s;
  const G = H / KVH;
  const probs = cx.savedProbs ?? attentionProbs(g, saved.q5, saved.k5, cx.maskBias);
  const dMerged = cx.linearBackward([m.o], [dy], () => cx.fromHeads(g.reshape(g.matMul(probs, saved.v5), [0, H, -1, D]), H));
  const dOut = g.reshape(cx.toHeads(dMerged, H), [0, KVH, G, -1, D]);
  const att = attentionBackward(g, dOut, { ...saved, probs }, { H, KVH, G, D });
  const dq = cx.fromHeads(ropeBackward(g, att.dq, rope.cos, rope.sin, D, s.rotary), H);
  const dk = cx.fromHeads(ropeBackward(g, att.dk, rope.cos, rope.sin, D, s.rotary), KVH);
  const dv = cx.fromHeads(att.dv, KVH);
  return cx.linearBackward([m.q, m.k, m.v], [dq, dk, dv], input);
}
