/**
 * The decoder as an ONNX graph with a KV cache, for any registered architecture
 * (src/model/architectures), with the input/output names @huggingface/transformers uses for
 * decoder-only models:
 *
 *   input_ids                 int64   [batch, sequence_length]
 *   attention_mask            int64   [batch, total_sequence_length]   (past + new; 0 = padding)
 *   position_ids              int64   [batch, sequence_length]
 *   past_key_values.N.key     float32 [batch, KVH, past_sequence_length, D]   (and .value)
 *   → logits                  float32 [batch, sequence_length, V]
 *   → present.N.key           float32 [batch, KVH, total_sequence_length, D] (and .value)
 *
 * The hidden state runs as a 2-D [B·T, C] matrix so every linear layer is one Gemm (or
 * MatMulNBits) on HF-layout weights. The mask is causal in absolute index space (key s visible
 * to query t iff s ≤ past + t) and drops padded keys; a fully masked (padding) query row yields
 * finite garbage, never NaN. Each layer is the architecture's layerForward with this file's
 * context: initializers by HF name, one linear per module, attention over cache + new keys.
 */
import type { LlamaConfig } from '../config.js';
import { decoderArchitecture } from '../architectures/index.js';
import { attentionForward } from '../blocks/attention.js';
import { linearForward } from '../blocks/linear.js';
import type { LayerForward } from '../blocks/layer-context.js';
import { ropeTables } from '../blocks/rope.js';
import { GraphBuilder } from '../onnx/builder.js';
import { InitializerWeights, type LinearOptions, type Weights } from './weights.js';

export type { Weights } from './weights.js';

export interface DecoderGraphOptions extends LinearOptions {
  /** Rows of the RoPE cos/sin tables (max position + 1); default config.maxPositionEmbeddings. */
  maxPositions?: number;
}

/** Large negative instead of -inf so a row with every key masked stays finite. */
const MASKED = -1e9;

export function buildDecoderGraph(cfg: LlamaConfig, weights: Weights, options: DecoderGraphOptions = {}): GraphBuilder {
  const arch = decoderArchitecture(cfg);
  const C = cfg.hiddenSize, H = cfg.numAttentionHeads, KVH = cfg.numKeyValueHeads, D = cfg.headDim, V = cfg.vocabSize;
  const g = new GraphBuilder(`${cfg.architecture}-decoder`);
  const w = new InitializerWeights(g, weights);

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

  // RoPE tables gathered by position: cos/sin [B, 1, T, R] (HF rotate_half layout: freqs twice).
  const { cos, sin } = ropeTables(options.maxPositions ?? cfg.maxPositionEmbeddings, arch.rotaryDim(cfg), cfg.ropeTheta);
  const rope = {
    cos: g.unsqueeze(g.gather(g.initializer('rope.cos', cos), positionIds), [1]),
    sin: g.unsqueeze(g.gather(g.initializer('rope.sin', sin), positionIds), [1]),
  };

  // Embedding: [B, T, C] → [B·T, C]
  const embed = w.tensor(arch.embedding);
  let h = g.reshape(g.gather(embed, inputIds), [-1, C]);
  // The attention scale and the norm epsilon, made before the first layer asks for them: that
  // keeps the initializers in the order earlier versions wrote, so exported graphs (and the lock
  // files that hash them) stay byte-identical.
  g.constFloat([1 / Math.sqrt(D)]);
  g.constFloat([cfg.rmsNormEps]);

  const toHeads = (x: string, heads: number): string => g.transpose(g.op('Reshape', [x, g.concat([idsShape, g.constInt64([heads, D])], 0)]), [0, 2, 1, 3]); // [B·T, heads·D] → [B, heads, T, D]
  const fromHeads = (x: string, heads: number): string => g.reshape(g.transpose(x, [0, 2, 1, 3]), [-1, heads * D]); // [B, heads, T, D] → [B·T, heads·D]
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const cx: LayerForward = {
      g, cfg, rope, toHeads, fromHeads,
      tensor: (name) => w.tensor(`model.layers.${l}.${name}`),
      linear: (module, x) => w.linear(arch.linearPath(l, module), x, arch.linearBias(cfg, module), options),
      attend: (q, k, v) => attendWithCache(g, cfg, l, past[l]!, maskBias, q, k, v),
    };
    h = arch.layerForward(cx, h).h;
  }

  const final = arch.finalNorm({ g, cfg, tensor: (name) => w.tensor(name) }, h).y;
  const lm = arch.lmHead(cfg);
  const head = lm.weight === arch.embedding ? embed : w.tensor(lm.weight);
  const logits2d = linearForward(g, final, { float: head, bias: lm.bias && w.tensor(lm.bias) }); // [B·T, V]
  const logits = g.op('Reshape', [logits2d, g.concat([idsShape, g.constInt64([V])], 0)]);
  g.output(logits, 'logits', 'float32', ['batch_size', 'sequence_length', V]);
  return g;
}

/** Appends this step's k/v to the layer's cache (outputs present.N.*) and attends over all of it. */
function attendWithCache(g: GraphBuilder, cfg: LlamaConfig, l: number, past: { key: string; value: string }, maskBias: string, q: string, k: string, v: string) {
  const H = cfg.numAttentionHeads, KVH = cfg.numKeyValueHeads, D = cfg.headDim;
  const kAll = g.op('Concat', [past.key, k], { axis: 2 }, { outputs: [`present.${l}.key`] })[0]!; // [B, KVH, S, D]
  const vAll = g.op('Concat', [past.value, v], { axis: 2 }, { outputs: [`present.${l}.value`] })[0]!;
  g.output(kAll, kAll, 'float32', ['batch_size', KVH, 'total_sequence_length', D]);
  g.output(vAll, vAll, 'float32', ['batch_size', KVH, 'total_sequence_length', D]);
  return attentionForward(g, q, kAll, vAll, maskBias, { H, KVH, G: H / KVH, D });
}

