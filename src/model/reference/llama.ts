/**
 * A straightforward float64 llama-family forward in TypeScript, written independently of the
 * ONNX graph, to check it. One sequence at a time, no cache, no batching: clarity over speed.
 *
 * Conventions follow Hugging Face `LlamaForCausalLM` / `Qwen2ForCausalLM`:
 *   h = embed[ids]                                    // [T, C]
 *   per layer: h += o_proj(attn(rope(q), rope(k), v)) with q/k/v = proj(rmsnorm(h))
 *              h += down(silu(gate(x)) * up(x))        with x = rmsnorm(h)
 *   logits = lm_head(rmsnorm(h))                       // [T, V] (lm_head = embed when tied)
 * RoPE rotates with `rotate_half` (halves, not interleaved pairs); GQA maps query head h to
 * key/value head floor(h / (H / KVH)).
 */
import type { LlamaConfig } from '../config.js';
import { linearPath } from '../architectures/llama.js';
import type { HostTensor } from '../tensor.js';
import { toFloat32 } from '../tensor.js';
import { InternalError } from '../../core/errors.js';

export type Weights = Map<string, HostTensor>;

function get(weights: Weights, name: string): Float64Array {
  const t = weights.get(name);
  if (!t) throw new InternalError(`reference forward: missing weight ${name}`);
  return Float64Array.from(toFloat32(t));
}

/** y[T, out] = x[T, in] · Wᵀ (+ b), W: [out, in] as HF stores it. */
export function linear(x: Float64Array, T: number, w: Float64Array, out: number, inDim: number, bias?: Float64Array): Float64Array {
  const y = new Float64Array(T * out);
  for (let t = 0; t < T; t++)
    for (let o = 0; o < out; o++) {
      let s = bias ? bias[o]! : 0;
      for (let i = 0; i < inDim; i++) s += x[t * inDim + i]! * w[o * inDim + i]!;
      y[t * out + o] = s;
    }
  return y;
}

/** RMSNorm over the last dim: x / sqrt(mean(x²) + eps) * g. */
export function rmsNorm(x: Float64Array, T: number, C: number, g: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[t * C + c]! ** 2;
    const r = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) y[t * C + c] = x[t * C + c]! * r * g[c]!;
  }
  return y;
}

/** Rotates heads in place: x [T, nHeads, D] at positions pos[t], HF rotate_half convention. */
export function applyRope(x: Float64Array, T: number, nHeads: number, D: number, pos: number[], theta: number): void {
  const half = D / 2;
  for (let t = 0; t < T; t++)
    for (let h = 0; h < nHeads; h++) {
      const base = (t * nHeads + h) * D;
      for (let i = 0; i < half; i++) {
        const angle = pos[t]! * theta ** (-(2 * i) / D);
        const c = Math.cos(angle), s = Math.sin(angle);
        const x1 = x[base + i]!, x2 = x[base + i + half]!;
        x[base + i] = x1 * c - x2 * s;
        x[base + i + half] = x2 * c + x1 * s;
      }
    }
}

export interface ReferenceOptions {
  /** Position of each token (default 0..T-1). */
  positions?: number[];
}

/** Logits [T, V] (float64) for one sequence of token ids. */
export function referenceLogits(cfg: LlamaConfig, weights: Weights, ids: number[], options: ReferenceOptions = {}): Float64Array {
  const T = ids.length, C = cfg.hiddenSize, H = cfg.numAttentionHeads, KVH = cfg.numKeyValueHeads, D = cfg.headDim, F = cfg.intermediateSize, V = cfg.vocabSize;
  const pos = options.positions ?? ids.map((_, t) => t);
  const embed = get(weights, 'model.embed_tokens.weight');
  let h: Float64Array = new Float64Array(T * C);
  for (let t = 0; t < T; t++) h.set(embed.subarray(ids[t]! * C, ids[t]! * C + C), t * C);

  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `model.layers.${l}`;
    const w = (m: Parameters<typeof linearPath>[1]) => get(weights, `${linearPath(l, m)}.weight`);
    const b = (m: Parameters<typeof linearPath>[1]) => (cfg.attentionBias ? get(weights, `${linearPath(l, m)}.bias`) : undefined);
    const x = rmsNorm(h, T, C, get(weights, `${p}.input_layernorm.weight`), cfg.rmsNormEps);
    const q = linear(x, T, w('q_proj'), H * D, C, b('q_proj')); // [T, H, D]
    const k = linear(x, T, w('k_proj'), KVH * D, C, b('k_proj')); // [T, KVH, D]
    const v = linear(x, T, w('v_proj'), KVH * D, C, b('v_proj')); // [T, KVH, D]
    applyRope(q, T, H, D, pos, cfg.ropeTheta);
    applyRope(k, T, KVH, D, pos, cfg.ropeTheta);
    const attn = new Float64Array(T * H * D); // [T, H, D]
    const group = H / KVH;
    const scale = 1 / Math.sqrt(D);
    const scores = new Float64Array(T);
    for (let head = 0; head < H; head++) {
      const kvh = Math.floor(head / group);
      for (let t = 0; t < T; t++) {
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[(t * H + head) * D + d]! * k[(s * KVH + kvh) * D + d]!;
          scores[s] = dot * scale;
          max = Math.max(max, scores[s]!);
        }
        let sum = 0;
        for (let s = 0; s <= t; s++) sum += scores[s] = Math.exp(scores[s]! - max);
        for (let s = 0; s <= t; s++) {
          const pr = scores[s]! / sum;
          for (let d = 0; d < D; d++) attn[(t * H + head) * D + d] += pr * v[(s * KVH + kvh) * D + d]!;
        }
      }
    }
    const o = linear(attn, T, w('o_proj'), C, H * D);
    for (let i = 0; i < h.length; i++) h[i] += o[i]!;

    const x2 = rmsNorm(h, T, C, get(weights, `${p}.post_attention_layernorm.weight`), cfg.rmsNormEps);
    const gate = linear(x2, T, w('gate_proj'), F, C);
    const up = linear(x2, T, w('up_proj'), F, C);
    for (let i = 0; i < gate.length; i++) gate[i] = (gate[i]! / (1 + Math.exp(-gate[i]!))) * up[i]!;
    const down = linear(gate, T, w('down_proj'), C, F);
    for (let i = 0; i < h.length; i++) h[i] += down[i]!;
  }
  h = rmsNorm(h, T, C, get(weights, 'model.norm.weight'), cfg.rmsNormEps);
  const head = cfg.tieWordEmbeddings ? embed : get(weights, 'lm_head.weight');
  return linear(h, T, head, V, C);
}
