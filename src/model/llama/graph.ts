/**
 * The llama-family decoder (llama, mistral, qwen2) as an ONNX graph with a KV cache, with the
 * input/output names @huggingface/transformers uses for decoder-only models:
 *
 *   input_ids                 int64   [batch, sequence_length]
 *   attention_mask            int64   [batch, total_sequence_length]   (past + new; 0 = padding)
 *   position_ids              int64   [batch, sequence_length]
 *   past_key_values.N.key     float32 [batch, KVH, past_sequence_length, D]   (and .value)
 *   → logits                  float32 [batch, sequence_length, V]
 *   → present.N.key           float32 [batch, KVH, total_sequence_length, D] (and .value)
 *
 * The hidden state runs as a 2-D [B·T, C] matrix so every linear layer is one Gemm (or
 * MatMulNBits) on HF-layout weights. Attention groups query heads by KV head (GQA) with a
 * broadcasting MatMul instead of copying K/V: q [B, KVH, G, T, D] · kᵀ [B, KVH, 1, D, S].
 * The mask is causal in absolute index space (key s visible to query t iff s ≤ past + t) and
 * drops padded keys; a fully masked (padding) query row yields finite garbage, never NaN.
 */
import type { LlamaConfig, LinearModule } from '../config.js';
import { linearPath } from '../config.js';
import { GraphBuilder } from '../onnx/builder.js';
import type { HostTensor } from '../tensor.js';
import { emitLinear, asF32, type LoraBranch } from './linear.js';
import type { NBitsOptions } from '../quantize/nbits.js';

export type Weights = Map<string, HostTensor>;

export interface LlamaGraphOptions {
  /** Quantize every decoder linear layer (q/k/v/o/gate/up/down) with MatMulNBits. */
  quantization?: NBitsOptions & { accuracyLevel?: number };
  /** LoRA side branches by module path (`model.layers.0.self_attn.q_proj`). */
  lora?: Map<string, LoraBranch>;
  /** Rows of the RoPE cos/sin tables (max position + 1); default config.maxPositionEmbeddings. */
  maxPositions?: number;
}

/** Large negative instead of -inf so a row with every key masked stays finite. */
const MASKED = -1e9;

export function buildLlamaGraph(cfg: LlamaConfig, weights: Weights, options: LlamaGraphOptions = {}): GraphBuilder {
  const C = cfg.hiddenSize, H = cfg.numAttentionHeads, KVH = cfg.numKeyValueHeads, D = cfg.headDim, V = cfg.vocabSize;
  const G = H / KVH;
  const g = new GraphBuilder(`${cfg.architecture}-decoder`);
  const weight = (name: string): HostTensor => {
    const t = weights.get(name);
    if (!t) throw new Error(`llama graph: missing weight ${name}`);
    return t;
  };

  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const past: Array<{ key: string; value: string }> = [];
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    past.push({
      key: g.input(`past_key_values.${l}.key`, 'float32', ['batch_size', KVH, 'past_sequence_length', D]),
      value: g.input(`past_key_values.${l}.value`, 'float32', ['batch_size', KVH, 'past_sequence_length', D]),
    });
  }

  // Shapes: B, T (new tokens), P (past length), S = P + T.
  const idsShape = g.shape(inputIds); // [B, T]
  const T = g.shape(inputIds, 1, 2); // [1]
  const P = g.shape(past[0]!.key, 2, 3); // [1]
  const S = g.add(P, T);

  // Additive mask [B, 1, 1, T, S]: causal (s ≤ P + t) and not padding.
  const qIdx = g.unsqueeze(g.op('Range', [g.squeeze(P, [0]), g.squeeze(S, [0]), g.constInt64([1], [])]), [1]); // [T, 1]
  const kIdx = g.unsqueeze(g.op('Range', [g.constInt64([0], []), g.squeeze(S, [0]), g.constInt64([1], [])]), [0]); // [1, S]
  const causal = g.op('LessOrEqual', [kIdx, qIdx]); // [T, S] bool
  const notPad = g.unsqueeze(g.cast(attentionMask, 'bool'), [1, 2, 3]); // [B, 1, 1, 1, S]
  const allowed = g.op('And', [notPad, causal]); // [B, 1, 1, T, S]
  const maskBias = g.op('Where', [allowed, g.constFloat([0]), g.constFloat([MASKED])]);

  // RoPE tables gathered by position: cos/sin [B, 1, T, D] (HF rotate_half layout: freqs twice).
  const maxPos = options.maxPositions ?? cfg.maxPositionEmbeddings;
  const { cos, sin } = ropeTables(maxPos, D, cfg.ropeTheta);
  const cosB = g.unsqueeze(g.gather(g.initializer('rope.cos', cos), positionIds), [1]);
  const sinB = g.unsqueeze(g.gather(g.initializer('rope.sin', sin), positionIds), [1]);
  const rope = (x: string): string => {
    // x: [B, heads, T, D]; rotate_half(x) = cat(-x2, x1)
    const x1 = g.slice(x, [0], [D / 2], [3]);
    const x2 = g.slice(x, [D / 2], [D], [3]);
    const rotated = g.concat([g.op('Neg', [x2]), x1], 3);
    return g.add(g.mul(x, cosB), g.mul(rotated, sinB));
  };

  const rmsNorm = (x: string, name: string): string => {
    const ms = g.op('ReduceMean', [g.mul(x, x)], { axes: [-1], keepdims: 1 });
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.add(ms, g.constFloat([cfg.rmsNormEps]))])]);
    return g.mul(g.mul(x, inv), g.initializer(name, asF32(weight(name))));
  };

  const linear = (x: string, l: number, m: LinearModule): string => {
    const path = linearPath(l, m);
    const bias = cfg.attentionBias && (m === 'q_proj' || m === 'k_proj' || m === 'v_proj') ? weight(`${path}.bias`) : undefined;
    return emitLinear(g, x, { path, weight: weight(`${path}.weight`), bias, quantization: options.quantization, lora: options.lora?.get(path) });
  };

  // Embedding: [B, T, C] → [B·T, C]
  const embedName = 'model.embed_tokens.weight';
  const embed = g.initializer(embedName, asF32(weight(embedName)));
  let h = g.reshape(g.gather(embed, inputIds), [-1, C]);
  const bt = (x: string, heads: number): string => g.transpose(g.op('Reshape', [x, g.concat([idsShape, g.constInt64([heads, D])], 0)]), [0, 2, 1, 3]); // [B·T, heads·D] → [B, heads, T, D]
  const scale = g.constFloat([1 / Math.sqrt(D)]);

  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const x = rmsNorm(h, `model.layers.${l}.input_layernorm.weight`);
    const q = rope(bt(linear(x, l, 'q_proj'), H)); // [B, H, T, D]
    const k = rope(bt(linear(x, l, 'k_proj'), KVH)); // [B, KVH, T, D]
    const v = bt(linear(x, l, 'v_proj'), KVH);
    const kAll = g.op('Concat', [past[l]!.key, k], { axis: 2 }, { outputs: [`present.${l}.key`] })[0]!; // [B, KVH, S, D]
    const vAll = g.op('Concat', [past[l]!.value, v], { axis: 2 }, { outputs: [`present.${l}.value`] })[0]!;
    g.output(kAll, kAll, 'float32', ['batch_size', KVH, 'total_sequence_length', D]);
    g.output(vAll, vAll, 'float32', ['batch_size', KVH, 'total_sequence_length', D]);
    const q5 = g.reshape(g.mul(q, scale), [0, KVH, G, -1, D]); // [B, KVH, G, T, D]
    const kT = g.transpose(g.unsqueeze(kAll, [2]), [0, 1, 2, 4, 3]); // [B, KVH, 1, D, S]
    const scores = g.add(g.matMul(q5, kT), maskBias); // [B, KVH, G, T, S]
    const ctx = g.matMul(g.softmax(scores, -1), g.unsqueeze(vAll, [2])); // [B, KVH, G, T, D]
    const merged = g.reshape(g.transpose(g.reshape(ctx, [0, H, -1, D]), [0, 2, 1, 3]), [-1, H * D]); // [B·T, H·D]
    h = g.add(h, linear(merged, l, 'o_proj'));

    const x2 = rmsNorm(h, `model.layers.${l}.post_attention_layernorm.weight`);
    const gate = linear(x2, l, 'gate_proj');
    const act = g.mul(gate, g.op('Sigmoid', [gate])); // SiLU
    h = g.add(h, linear(g.mul(act, linear(x2, l, 'up_proj')), l, 'down_proj'));
  }

  const final = rmsNorm(h, 'model.norm.weight');
  const head = cfg.tieWordEmbeddings ? embed : g.initializer('lm_head.weight', asF32(weight('lm_head.weight')));
  const logits2d = g.gemmTransB(final, head); // [B·T, V]
  const logits = g.op('Reshape', [logits2d, g.concat([idsShape, g.constInt64([V])], 0)]);
  g.output(logits, 'logits', 'float32', ['batch_size', 'sequence_length', V]);
  return g;
}

/** cos/sin [maxPos, D] computed in float64: angle(p, i) = p · θ^(−2i/D), halves repeated. */
export function ropeTables(maxPos: number, D: number, theta: number): { cos: HostTensor; sin: HostTensor } {
  const cos = new Float32Array(maxPos * D), sin = new Float32Array(maxPos * D);
  const half = D / 2;
  for (let p = 0; p < maxPos; p++)
    for (let i = 0; i < half; i++) {
      const angle = p * theta ** (-(2 * i) / D);
      cos[p * D + i] = cos[p * D + i + half] = Math.cos(angle);
      sin[p * D + i] = sin[p * D + i + half] = Math.sin(angle);
    }
  return { cos: { dtype: 'F32', shape: [maxPos, D], data: cos }, sin: { dtype: 'F32', shape: [maxPos, D], data: sin } };
}
