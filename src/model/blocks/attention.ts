/**
 * Causal grouped-query attention (the core: softmax(q·kᵀ/√D + mask)·v, no projections), as a
 * forward/backward pair. Query heads are grouped by the KV head they share, [B, KVH, G, T, D]
 * with G = H / KVH, so GQA is a broadcasting MatMul and K and V are never copied per query head.
 *
 *   q     [B, H, T, D]    (rotated)              k, v  [B, KVH, S, D]   (S = T, or past + T)
 *   mask  [B, 1, 1, T, S] additive: 0 where query t may see key s, −1e9 elsewhere
 *   out   [B, KVH, G, T, D]
 */
import type { GraphBuilder } from '../onnx/builder.js';

export interface AttentionDims {
  H: number;
  KVH: number;
  /** H / KVH query heads per KV head. */
  G: number;
  D: number;
}

export interface AttentionSaved {
  q5: string; // [B, KVH, G, T, D], already scaled by 1/√D
  k5: string; // [B, KVH, 1, S, D]
  v5: string; // [B, KVH, 1, S, D]
  probs: string; // [B, KVH, G, T, S]
}

/** P = softmax(q5 · k5ᵀ + mask) [B, KVH, G, T, S]: the forward's, and the backward's recomputation. */
export function attentionProbs(g: GraphBuilder, q5: string, k5: string, maskBias: string): string {
  return g.softmax(g.add(g.matMul(q5, g.transpose(k5, [0, 1, 2, 4, 3])), maskBias), -1);
}

export function attentionForward(g: GraphBuilder, q: string, k: string, v: string, maskBias: string, dims: AttentionDims): { out: string; saved: AttentionSaved } {
  const { KVH, G, D } = dims;
  const q5 = g.reshape(g.mul(q, g.constFloat([1 / Math.sqrt(D)])), [0, KVH, G, -1, D]);
  const k5 = g.unsqueeze(k, [2]);
  const probs = attentionProbs(g, q5, k5, maskBias);
  const v5 = g.unsqueeze(v, [2]);
  return { out: g.matMul(probs, v5), saved: { q5, k5, v5, probs } };
}

/**
 * Backward of attentionForward for dOut [B, KVH, G, T, D]. The sums over the G query heads that
 * share a KV head fold into one matmul by viewing [G, T] as G·T rows.
 * Returns dq [B, H, T, D] (w.r.t. the rotated, unscaled q), dk and dv [B, KVH, S, D].
 */
export function attentionBackward(g: GraphBuilder, dOut: string, s: AttentionSaved, dims: AttentionDims): { dq: string; dk: string; dv: string } {
  const { H, D } = dims;
  // [B, KVH, G, T, X] → [B, KVH, G·T, X]; X = S (Reshape's 0 copies input dim 3, which is S) or D.
  const flatRows = (x: string, last: 'S' | 'D'): string => g.reshape(x, [0, 0, -1, last === 'S' ? 0 : D]);
  const tLast = (x: string): string => g.transpose(x, [0, 1, 3, 2]);
  const dProbs = g.matMul(dOut, g.transpose(s.v5, [0, 1, 2, 4, 3])); // [B, KVH, G, T, S]
  const dv = g.matMul(tLast(flatRows(s.probs, 'S')), flatRows(dOut, 'D')); // [B, KVH, S, D]
  // softmax backward: dS = P ⊙ (dP − Σ_s dP ⊙ P)
  const rowDot = g.op('ReduceSum', [g.mul(dProbs, s.probs), g.constInt64([-1])], { keepdims: 1 });
  const dScores = g.mul(s.probs, g.sub(dProbs, rowDot));
  const dq5 = g.matMul(dScores, s.k5); // [B, KVH, G, T, D] w.r.t. the scaled q
  const dq = g.reshape(g.mul(dq5, g.constFloat([1 / Math.sqrt(D)])), [0, H, -1, D]);
  const dk = g.matMul(tLast(flatRows(dScores, 'S')), flatRows(s.q5, 'D')); // [B, KVH, S, D]
  return { dq, dk, dv };
}
