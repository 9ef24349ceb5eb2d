/**
 * A float64 forward of every decoder architecture over a padded batch, written independently of
 * the ONNX graphs (src/model/architectures) to check them: the inference decoder's logits here,
 * the training graphs' loss and gradients in src/train/reference-decoder.ts (by finite
 * differences). One loop per formula; clarity over speed.
 *
 * Rows: B sequences of T tokens, row b·T + t; attentionMask 0 marks padding (left or right);
 * positions default to t. The linears go through a Projector, so the training reference adds LoRA
 * branches (and dropout masks) without another copy of the layers.
 *
 *   llama, mistral, qwen2   h += o(attn(x)),  h += down(silu(gate(x₂)) ⊙ up(x₂))           RMSNorm
 *   phi                     h += dense(attn(x)) + fc2(gelu_new(fc1(x)))                   LayerNorm, partial RoPE
 *   qwen2_moe               h += o(attn(x)),  h += σ(sg(x₂))·shared(x₂) + Σ_top-k w_e·expert_e(x₂)
 */
import { decoderArchitecture } from '../architectures/index.js';
import type { LlamaConfig } from '../config.js';
import { toFloat32, type HostTensor } from '../tensor.js';
import { applyPartialRope, causalAttention, geluNew, layerNorm, linear, rmsNorm, sigmoid, silu, softmaxRows } from './kernels.js';
import { InternalError } from '../../core/errors.js';

export interface ReferenceRows {
  B: number;
  T: number;
  ids: number[]; // [B·T]
  attentionMask: number[]; // [B·T], 1 token, 0 padding
  /** [B·T]; default t within each row. */
  positions?: number[];
}

/**
 * One linear module (`module` as the architecture names it, e.g. `experts.3.up_proj`) of layer
 * `layer` on x [rows, in]: [rows, out]. `routed` are the rows' token–expert pair indices
 * (n·k + j) for an MoE expert's linear, whose dropout masks are drawn per pair.
 */
export type Projector = (x: Float64Array, rows: number, layer: number, module: string, routed?: number[]) => Float64Array;

/** A layer's router statistics over unpadded tokens: selections and probability sums per expert [E]. */
export interface RouterStats {
  counts: Float64Array;
  probSum: Float64Array;
}

export type Float64Of = (name: string) => Float64Array;

/** Weights as float64 by HF name, each converted once; float64 tensors are used as they are (finite differences perturb them). */
export function float64Of(weights: Map<string, HostTensor>): Float64Of {
  const cache = new Map<string, Float64Array>();
  return (name) => {
    let v = cache.get(name);
    if (!v) {
      const t = weights.get(name);
      if (!t) throw new InternalError(`reference: missing weight ${name}`);
      cache.set(name, (v = t.data instanceof Float64Array ? t.data : Float64Array.from(toFloat32(t))));
    }
    return v;
  };
}

/** The base linears: x·Wᵀ + b with the checkpoint's tensors. */
export function baseProjector(cfg: LlamaConfig, get: Float64Of): Projector {
  const arch = decoderArchitecture(cfg);
  return (x, rows, layer, module) => {
    const path = arch.linearPath(layer, module);
    const [out, inDim] = arch.linearShape(cfg, module);
    return linear(x, rows, get(`${path}.weight`), out, inDim, arch.linearBias(cfg, module) ? get(`${path}.bias`) : undefined);
  };
}

interface LayerRun {
  cfg: LlamaConfig;
  get: Float64Of;
  proj: Projector;
  rows: ReferenceRows;
  positions: number[];
  layer: number;
  stats?: RouterStats[];
}

/** The hidden states after the final norm, [B·T, C]; `stats` collects each MoE layer's router statistics. */
export function referenceHidden(cfg: LlamaConfig, get: Float64Of, rows: ReferenceRows, proj: Projector, stats?: RouterStats[]): Float64Array {
  const { B, T } = rows;
  const C = cfg.hiddenSize, N = B * T;
  const positions = rows.positions ?? Array.from({ length: N }, (_, n) => n % T);
  const embed = get('model.embed_tokens.weight');
  let h: Float64Array = new Float64Array(N * C);
  for (let n = 0; n < N; n++) h.set(embed.subarray(rows.ids[n]! * C, rows.ids[n]! * C + C), n * C);
  for (let layer = 0; layer < cfg.numHiddenLayers; layer++) h = referenceLayer(cfg, get, rows, proj, layer, h, stats);
  if (cfg.architecture === 'phi') return layerNorm(h, N, C, get('model.final_layernorm.weight'), get('model.final_layernorm.bias'), cfg.phi!.layerNormEps);
  return rmsNorm(h, N, C, get('model.norm.weight'), cfg.rmsNormEps);
}

/** One decoder layer on h [B·T, C] (updated in place and returned); an MoE layer appends its router statistics to `stats`. */
export function referenceLayer(cfg: LlamaConfig, get: Float64Of, rows: ReferenceRows, proj: Projector, layer: number, h: Float64Array, stats?: RouterStats[]): Float64Array {
  const positions = rows.positions ?? Array.from({ length: rows.B * rows.T }, (_, n) => n % rows.T);
  const run: LayerRun = { cfg, get, proj, rows, positions, layer, stats };
  return cfg.architecture === 'phi' ? phiLayer(run, h) : llamaFamilyLayer(run, h);
}

/** Logits [B·T, V] of the final hidden states (LM head tied or not, with phi's bias). */
export function referenceHead(cfg: LlamaConfig, get: Float64Of, hidden: Float64Array, rows: number): Float64Array {
  const head = get(cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  return linear(hidden, rows, head, cfg.vocabSize, cfg.hiddenSize, cfg.architecture === 'phi' ? get('lm_head.bias') : undefined);
}

/** Logits [B·T, V] (float64) of a batch. */
export function referenceDecoderLogits(cfg: LlamaConfig, weights: Map<string, HostTensor>, rows: ReferenceRows): Float64Array {
  const get = float64Of(weights);
  return referenceHead(cfg, get, referenceHidden(cfg, get, rows, baseProjector(cfg, get)), rows.B * rows.T);
}

/** q/k/v projections, RoPE on the first R features of each head, causal attention: [N, H·D]. */
function attention(run: LayerRun, x: Float64Array, R: number): Float64Array {
  const { cfg, proj, layer, rows, positions } = run;
  const N = rows.B * rows.T, H = cfg.numAttentionHeads, KVH = cfg.numKeyValueHeads, D = cfg.headDim;
  const q = proj(x, N, layer, 'q_proj'), k = proj(x, N, layer, 'k_proj'), v = proj(x, N, layer, 'v_proj');
  applyPartialRope(q, N, H, D, R, positions, cfg.ropeTheta);
  applyPartialRope(k, N, KVH, D, R, positions, cfg.ropeTheta);
  return causalAttention(q, k, v, { B: rows.B, T: rows.T, H, KVH, D }, rows.attentionMask);
}

function addInto(h: Float64Array, y: Float64Array): Float64Array {
  for (let i = 0; i < h.length; i++) h[i] += y[i]!;
  return h;
}

/** SwiGLU through the projector: down(silu(gate(x)) ⊙ up(x)) for modules `<prefix>gate_proj` …. */
function swiglu(proj: Projector, layer: number, x: Float64Array, rows: number, prefix: string, routed?: number[]): Float64Array {
  const gate = proj(x, rows, layer, `${prefix}gate_proj`, routed), up = proj(x, rows, layer, `${prefix}up_proj`, routed);
  for (let i = 0; i < gate.length; i++) gate[i] = silu(gate[i]!) * up[i]!;
  return proj(gate, rows, layer, `${prefix}down_proj`, routed);
}

/** llama / mistral / qwen2 layers, and qwen2_moe's (its MLP is the MoE block). */
function llamaFamilyLayer(run: LayerRun, h: Float64Array): Float64Array {
  const { cfg, get, proj, layer, rows } = run;
  const N = rows.B * rows.T, C = cfg.hiddenSize;
  const p = `model.layers.${layer}`;
  const x = rmsNorm(h, N, C, get(`${p}.input_layernorm.weight`), cfg.rmsNormEps);
  addInto(h, proj(attention(run, x, cfg.headDim), N, layer, 'o_proj'));
  const x2 = rmsNorm(h, N, C, get(`${p}.post_attention_layernorm.weight`), cfg.rmsNormEps);
  return addInto(h, cfg.architecture === 'qwen2_moe' ? moe(run, x2) : swiglu(proj, layer, x2, N, ''));
}

/** phi: h + dense(attn(x)) + fc2(gelu_new(fc1(x))), x = LayerNorm(h). */
function phiLayer(run: LayerRun, h: Float64Array): Float64Array {
  const { cfg, get, proj, layer, rows } = run;
  const N = rows.B * rows.T, C = cfg.hiddenSize;
  const p = `model.layers.${layer}`;
  const x = layerNorm(h, N, C, get(`${p}.input_layernorm.weight`), get(`${p}.input_layernorm.bias`), cfg.phi!.layerNormEps);
  const att = proj(attention(run, x, Math.floor(cfg.headDim * cfg.phi!.partialRotaryFactor)), N, layer, 'dense');
  const pre = proj(x, N, layer, 'fc1');
  const mlp = proj(pre.map(geluNew), N, layer, 'fc2');
  return addInto(addInto(h, att), mlp);
}

/**
 * Top-k of one row of router probabilities: indices by descending probability, ties to the lower
 * index (ONNX TopK's rule; torch.topk agrees on CPU).
 */
export function topK(p: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: p.length }, (_, e) => e).sort((a, b) => p[b]! - p[a]! || a - b).slice(0, k);
}

/**
 * qwen2_moe's sparse MLP (transformers' Qwen2MoeSparseMoeBlock): softmax router over E experts,
 * the top k per token (weights renormalised with norm_topk_prob), each routed token through its
 * experts' SwiGLU, summed by weight, plus the shared expert gated by σ(shared_expert_gate(x)).
 */
function moe(run: LayerRun, x: Float64Array): Float64Array {
  return referenceMoe(run.cfg, run.proj, run.layer, x, run.rows.attentionMask, run.stats);
}

/**
 * The MoE block on x [N, C] through `proj` (N = mask.length; mask 0 marks padding, left out of the
 * statistics); appends its router statistics to `stats`.
 */
export function referenceMoe(cfg: LlamaConfig, proj: Projector, layer: number, x: Float64Array, mask: number[], stats?: RouterStats[]): Float64Array {
  const m = cfg.moe!;
  const N = mask.length, C = cfg.hiddenSize, E = m.numExperts, k = m.numExpertsPerTok;
  const probs = softmaxRows(proj(x, N, layer, 'gate'), N, E);
  const out = swiglu(proj, layer, x, N, 'shared_expert.');
  const sg = proj(x, N, layer, 'shared_expert_gate');
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) out[n * C + c] = out[n * C + c]! * sigmoid(sg[n]!);
  const chosen = Array.from({ length: N }, (_, n) => topK(probs.subarray(n * E, (n + 1) * E), k));
  const counts = new Float64Array(E), probSum = new Float64Array(E);
  for (let n = 0; n < N; n++) {
    if (mask[n] === 0) continue;
    for (const e of chosen[n]!) counts[e] += 1;
    for (let e = 0; e < E; e++) probSum[e] += probs[n * E + e]!;
  }
  stats?.push({ counts, probSum });
  for (let e = 0; e < E; e++) {
    const tokens: number[] = [], pairs: number[] = [], weights: number[] = [];
    for (let n = 0; n < N; n++) {
      const j = chosen[n]!.indexOf(e);
      if (j < 0) continue;
      const top = chosen[n]!.map((i) => probs[n * E + i]!);
      const norm = m.normTopkProb ? top.reduce((a, b) => a + b, 0) : 1;
      tokens.push(n);
      pairs.push(n * k + j);
      weights.push(top[j]! / norm);
    }
    if (tokens.length === 0) continue;
    const xe = new Float64Array(tokens.length * C);
    tokens.forEach((n, i) => xe.set(x.subarray(n * C, (n + 1) * C), i * C));
    const ye = swiglu(proj, layer, xe, tokens.length, `experts.${e}.`, pairs);
    tokens.forEach((n, i) => {
      for (let c = 0; c < C; c++) out[n * C + c] += weights[i]! * ye[i * C + c]!;
    });
  }
  return out;
}

/**
 * transformers' load_balancing_loss_func over every MoE layer's statistics, with M unpadded
 * tokens per layer: E · Σ_e (Σ_l counts_l,e / (L·M)) · (Σ_l probSum_l,e / (L·M)).
 */
export function referenceAuxLoss(stats: RouterStats[], tokens: number): number {
  if (stats.length === 0) return 0;
  const E = stats[0]!.counts.length, rows = stats.length * tokens;
  let loss = 0;
  for (let e = 0; e < E; e++) {
    let c = 0, p = 0;
    for (const s of stats) {
      c += s.counts[e]!;
      p += s.probSum[e]!;
    }
    loss += (c / rows) * (p / rows);
  }
  return E * loss;
}
