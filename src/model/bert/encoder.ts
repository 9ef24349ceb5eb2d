/**
 * A BERT/RoBERTa encoder truncated at layer L, as an ONNX graph built with the model engine's
 * GraphBuilder (src/model/onnx); BERTScore (src/metrics/bertscore) embeds texts with it. Weights use the Hugging Face names of
 * `BertModel`/`RobertaModel` (with or without the `bert.`/`roberta.` prefix stripped by the
 * caller). Output: the hidden states after layer L (HF `hidden_states[L]`; L = 0 is the
 * embedding output).
 *
 * Graph, per batch of right-padded sequences:
 *   input_ids [B, T] int64, attention_mask [B, T] int64
 *   x = LayerNorm(word[ids] + position[offset .. offset+T) + token_type[0])
 *   per layer: x1 = LayerNorm(x + Wo·Attn(x) + bo);  x = LayerNorm(x1 + W2·gelu(W1·x1 + b1) + b2)
 *   Attn: softmax(Q Kᵀ / √d + (1 − mask)·(−1e9)) V over heads
 *   hidden [B, T, H] float32
 * Positions: BERT counts from 0; RoBERTa from padding_idx + 1 (offset 2). With right padding
 * this equals RoBERTa's create_position_ids_from_input_ids on every non-pad token, and pad
 * tokens are masked out. GELU is the exact erf form (hidden_act "gelu").
 */
import type { HostTensor } from '../tensor.js';
import type { GraphBuilder as GraphBuilderType } from '../onnx/builder.js';
import { InternalError } from '../../core/errors.js';

export interface BertEncoderConfig {
  hiddenSize: number;
  numHeads: number;
  intermediateSize: number;
  /** Layers to build: the output is the hidden state after this many layers. */
  layers: number;
  layerNormEps: number;
  /** First position id: 0 for BERT, padding_idx + 1 = 2 for RoBERTa. */
  positionOffset: number;
}

export type BertWeights = ReadonlyMap<string, HostTensor>;

function need(weights: BertWeights, name: string): HostTensor {
  const t = weights.get(name);
  if (!t) throw new InternalError(`BERT encoder: missing weight "${name}"`);
  return t;
}

/** A [out, in] Linear weight as a float32 [in, out] tensor for MatMul. */
function transposed(t: HostTensor): HostTensor {
  const [out, inp] = t.shape as [number, number];
  const src = t.data as Float32Array;
  const dst = new Float32Array(out * inp);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) dst[i * out + o] = src[o * inp + i]!;
  return { dtype: 'F32', shape: [inp, out], data: dst };
}

/** Builds the encoder graph (float32 weights expected). */
export async function buildBertEncoderGraph(config: BertEncoderConfig, weights: BertWeights): Promise<GraphBuilderType> {
  const { GraphBuilder } = await import('../onnx/builder.js');
  const g = new GraphBuilder('bert_encoder');
  const H = config.hiddenSize;
  const heads = config.numHeads;
  const hd = H / heads;
  if (!Number.isInteger(hd)) throw new InternalError(`BERT encoder: hidden size ${H} is not divisible by ${heads} heads`);
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq']);

  const init = (name: string, t: HostTensor): string => g.initializer(name, t);
  const layerNorm = (x: string, prefix: string): string =>
    g.op('LayerNormalization', [x, init(`${prefix}.weight`, need(weights, `${prefix}.weight`)), init(`${prefix}.bias`, need(weights, `${prefix}.bias`))], { axis: -1, epsilon: config.layerNormEps });
  const linear = (x: string, prefix: string): string =>
    g.add(g.matMul(x, init(`${prefix}.weight_t`, transposed(need(weights, `${prefix}.weight`)))), init(`${prefix}.bias`, need(weights, `${prefix}.bias`)));

  // embeddings
  const word = g.gather(init('embeddings.word_embeddings.weight', need(weights, 'embeddings.word_embeddings.weight')), ids);
  const seqLen = g.shape(ids, 1, 2);
  const posEnd = g.add(seqLen, g.constInt64([config.positionOffset]));
  const pos = g.op('Slice', [init('embeddings.position_embeddings.weight', need(weights, 'embeddings.position_embeddings.weight')), g.constInt64([config.positionOffset]), posEnd, g.constInt64([0])]);
  const typeTable = need(weights, 'embeddings.token_type_embeddings.weight');
  const type0: HostTensor = { dtype: 'F32', shape: [H], data: (typeTable.data as Float32Array).slice(0, H) };
  let x = layerNorm(g.add(g.add(word, pos), init('embeddings.token_type_row0', type0)), 'embeddings.LayerNorm');

  // additive attention mask [B, 1, 1, T]
  const maskF = g.cast(mask, 'float32');
  const maskBias = g.unsqueeze(g.mul(g.sub(g.constFloat([1]), maskF), g.constFloat([-1e9])), [1, 2]);
  const scale = g.constFloat([1 / Math.sqrt(hd)]);

  for (let l = 0; l < config.layers; l++) {
    const p = `encoder.layer.${l}`;
    const split = (t: string): string => g.transpose(g.reshape(t, [0, 0, heads, hd]), [0, 2, 1, 3]); // [B, nh, T, hd]
    const q = split(linear(x, `${p}.attention.self.query`));
    const kT = g.transpose(g.reshape(linear(x, `${p}.attention.self.key`), [0, 0, heads, hd]), [0, 2, 3, 1]); // [B, nh, hd, T]
    const v = split(linear(x, `${p}.attention.self.value`));
    const probs = g.softmax(g.add(g.mul(g.matMul(q, kT), scale), maskBias), -1);
    const context = g.reshape(g.transpose(g.matMul(probs, v), [0, 2, 1, 3]), [0, 0, H]);
    const x1 = layerNorm(g.add(linear(context, `${p}.attention.output.dense`), x), `${p}.attention.output.LayerNorm`);
    const h = linear(x1, `${p}.intermediate.dense`);
    const gelu = g.mul(g.mul(h, g.constFloat([0.5])), g.add(g.constFloat([1]), g.op('Erf', [g.mul(h, g.constFloat([Math.SQRT1_2]))])));
    x = layerNorm(g.add(linear(gelu, `${p}.output.dense`), x1), `${p}.output.LayerNorm`);
  }
  g.output(x, 'hidden', 'float32', ['batch', 'seq', H]);
  return g;
}

/** The part of an onnxruntime session the embedder uses. */
export interface EncoderSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
}

/**
 * Runs token-id sequences (special tokens included) through an encoder session in right-padded
 * batches of similar length (sorted by length so padding stays small; results come back in input
 * order) and returns each sequence's hidden states for bertScore().
 */
export async function embedSequences(session: EncoderSession, sequences: ReadonlyArray<readonly number[]>, options: { padId: number; batchSize?: number }): Promise<Array<{ ids: number[]; embeddings: Float32Array; dim: number }>> {
  const { loadOrt, i64Tensor } = await import('../onnx/session.js');
  const ort = await loadOrt();
  const batchSize = options.batchSize ?? 32;
  const order = sequences.map((s, i) => i).sort((a, b) => sequences[a]!.length - sequences[b]!.length || a - b);
  const out = new Array<{ ids: number[]; embeddings: Float32Array; dim: number }>(sequences.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const batch = order.slice(start, start + batchSize);
    const T = Math.max(1, ...batch.map((i) => sequences[i]!.length));
    const ids: number[] = [];
    const mask: number[] = [];
    for (const i of batch) {
      const s = sequences[i]!;
      for (let t = 0; t < T; t++) {
        ids.push(t < s.length ? s[t]! : options.padId);
        mask.push(t < s.length ? 1 : 0);
      }
    }
    const result = await session.run({ input_ids: i64Tensor(ort, ids, [batch.length, T]), attention_mask: i64Tensor(ort, mask, [batch.length, T]) });
    const hidden = result.hidden!;
    const H = hidden.dims[2]!;
    const data = hidden.data as Float32Array;
    batch.forEach((i, b) => {
      const len = sequences[i]!.length;
      out[i] = { ids: [...sequences[i]!], embeddings: data.slice(b * T * H, (b * T + len) * H), dim: H };
    });
  }
  return out;
}
