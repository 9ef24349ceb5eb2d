/**
 * A float64 reference of the LoRA-augmented llama forward and the summed token loss, written
 * for clarity, to check the ONNX training graph (its loss, and its gradients by central finite
 * differences). Batched with right padding like the trainer: ids/labels [B, T], attention mask
 * [B, T] (1 = token, 0 = padding), labels −100 where no loss is taken. Uses the model reference's
 * RMSNorm, RoPE and linear kernels (src/model/reference/llama.ts).
 */
import { linearPath, type LinearModule } from '../model/architectures/llama.js';
import type { LlamaConfig } from '../model/config.js';
import { applyRope, linear, rmsNorm, type Weights } from '../model/reference/llama.js';
import { toFloat32 } from '../model/tensor.js';
import type { LoraConfig, LoraSite } from './lora.js';
import { InternalError } from '../core/errors.js';

export interface ReferenceBatch {
  B: number;
  T: number;
  ids: number[]; // [B·T]
  attentionMask: number[]; // [B·T]
  labels: number[]; // [B·T], target of position t (already shifted), −100 = ignored
}

export interface ReferenceLora {
  config: LoraConfig;
  sites: LoraSite[];
  A: Float64Array[]; // per site [r, in]
  B: Float64Array[]; // per site [out, r]
  /** Optional dropout keep-masks per site, [B·T, in] of 0/1 (scaled by 1/(1−p) as PEFT does). */
  masks?: Uint8Array[];
}

export const IGNORE_INDEX = -100;

/** Σ over labelled tokens of −log softmax(logits)[label] (float64). */
export function referenceLossSum(cfg: LlamaConfig, weights: Weights, batch: ReferenceBatch, lora: ReferenceLora): number {
  const { B, T } = batch;
  const C = cfg.hiddenSize, V = cfg.vocabSize;
  const N = B * T;
  const get = float64Weights(weights);
  const embed = get('model.embed_tokens.weight');
  let h: Float64Array = new Float64Array(N * C);
  for (let n = 0; n < N; n++) h.set(embed.subarray(batch.ids[n]! * C, batch.ids[n]! * C + C), n * C);
  for (let l = 0; l < cfg.numHiddenLayers; l++) h = layerOf(cfg, get, l, h, batch, lora);
  const final = rmsNorm(h, N, C, get('model.norm.weight'), cfg.rmsNormEps);
  const head = get(cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const label = batch.labels[n]!;
    if (label === IGNORE_INDEX) continue;
    const logits = linear(final.subarray(n * C, n * C + C), 1, head, V, C);
    let max = -Infinity;
    for (const z of logits) max = Math.max(max, z);
    let sum = 0;
    for (const z of logits) sum += Math.exp(z - max);
    loss += max + Math.log(sum) - logits[label]!;
  }
  return loss;
}

/** One decoder layer (with its LoRA branches) on h [B·T, C] of a right-padded batch: the new h. */
export function referenceLayer(cfg: LlamaConfig, weights: Weights, layer: number, h: Float64Array, batch: Pick<ReferenceBatch, 'B' | 'T' | 'attentionMask'>, lora: ReferenceLora): Float64Array {
  return layerOf(cfg, float64Weights(weights), layer, Float64Array.from(h), batch, lora);
}

/** Weights as float64 by name, converted once (float64 weights are used as they are: finite differences of full fine-tuning perturb them). */
function float64Weights(weights: Weights): (name: string) => Float64Array {
  const w64 = new Map<string, Float64Array>();
  return (name) => {
    let v = w64.get(name);
    if (!v) {
      const t = weights.get(name);
      if (!t) throw new InternalError(`reference: missing weight ${name}`);
      w64.set(name, (v = t.data instanceof Float64Array ? t.data : Float64Array.from(toFloat32(t))));
    }
    return v;
  };
}

function layerOf(cfg: LlamaConfig, get: (name: string) => Float64Array, l: number, h: Float64Array, batch: Pick<ReferenceBatch, 'B' | 'T' | 'attentionMask'>, lora: ReferenceLora): Float64Array {
  const { B, T } = batch;
  const C = cfg.hiddenSize, H = cfg.numAttentionHeads, KVH = cfg.numKeyValueHeads, D = cfg.headDim, F = cfg.intermediateSize;
  const N = B * T;
  const siteIndex = new Map(lora.sites.map((s, i) => [s.path, i]));
  const keep = 1 - lora.config.lora_dropout;
  const scaling = lora.config.lora_alpha / lora.config.r;
  const r = lora.config.r;
  const proj = (x: Float64Array, module: LinearModule, out: number, inDim: number): Float64Array => {
    const path = linearPath(l, module);
    const y = linear(x, N, get(`${path}.weight`), out, inDim, cfg.attentionBias && ['q_proj', 'k_proj', 'v_proj'].includes(module) ? get(`${path}.bias`) : undefined);
    const i = siteIndex.get(path);
    if (i === undefined) return y;
    let xd = x;
    const mask = lora.masks?.[i];
    if (mask) {
      xd = new Float64Array(x.length);
      for (let j = 0; j < x.length; j++) xd[j] = (x[j]! * mask[j]!) / keep;
    }
    const u = linear(xd, N, lora.A[i]!, r, inDim); // [N, r]
    const z = linear(u, N, lora.B[i]!, out, r); // [N, out]
    for (let j = 0; j < y.length; j++) y[j] += scaling * z[j]!;
    return y;
  };
  const positions = Array.from({ length: T }, (_, t) => t);
  const group = H / KVH;
  const scale = 1 / Math.sqrt(D);
  const p = `model.layers.${l}`;
  const x = rmsNorm(h, N, C, get(`${p}.input_layernorm.weight`), cfg.rmsNormEps);
  const q = proj(x, 'q_proj', H * D, C);
  const k = proj(x, 'k_proj', KVH * D, C);
  const v = proj(x, 'v_proj', KVH * D, C);
  const attn = new Float64Array(N * H * D);
  for (let b = 0; b < B; b++) {
    const o = b * T;
    // RoPE per sequence (positions 0..T−1; right padding keeps real tokens at their positions)
    applyRope(q.subarray(o * H * D, (o + T) * H * D), T, H, D, positions, cfg.ropeTheta);
    applyRope(k.subarray(o * KVH * D, (o + T) * KVH * D), T, KVH, D, positions, cfg.ropeTheta);
    for (let head = 0; head < H; head++) {
      const kvh = Math.floor(head / group);
      for (let t = 0; t < T; t++) {
        const scores: number[] = [];
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          if (batch.attentionMask[o + s] === 0) { scores.push(-Infinity); continue; }
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[((o + t) * H + head) * D + d]! * k[((o + s) * KVH + kvh) * D + d]!;
          scores.push(dot * scale);
          max = Math.max(max, dot * scale);
        }
        if (max === -Infinity) continue; // nothing visible (cannot happen with right padding)
        let sum = 0;
        const e = scores.map((sc) => (sc === -Infinity ? 0 : Math.exp(sc - max)));
        for (const z of e) sum += z;
        for (let s = 0; s <= t; s++) {
          const pr = e[s]! / sum;
          for (let d = 0; d < D; d++) attn[((o + t) * H + head) * D + d] += pr * v[((o + s) * KVH + kvh) * D + d]!;
        }
      }
    }
  }
  const oProj = proj(attn, 'o_proj', C, H * D);
  for (let i = 0; i < h.length; i++) h[i] += oProj[i]!;
  const x2 = rmsNorm(h, N, C, get(`${p}.post_attention_layernorm.weight`), cfg.rmsNormEps);
  const gate = proj(x2, 'gate_proj', F, C);
  const up = proj(x2, 'up_proj', F, C);
  for (let i = 0; i < gate.length; i++) gate[i] = (gate[i]! / (1 + Math.exp(-gate[i]!))) * up[i]!;
  const down = proj(gate, 'down_proj', C, F);
  for (let i = 0; i < h.length; i++) h[i] += down[i]!;
  return h;
}
