/**
 * The inference decoder of every architecture against the float64 reference (src/model/reference/
 * decoder.ts) on a left-padded batch, in one prefill and as prefill + KV-cache steps, float32 and
 * 4-bit (the reference then runs the dequantized weights).
 */
import { describe, expect, it } from 'vitest';
import { decoderArchitecture } from '../../../src/model/architectures/index.js';
import { buildDecoderGraph } from '../../../src/model/decoder/graph.js';
import { DecoderRunner } from '../../../src/model/decoder/runner.js';
import { dequantizeNBits, quantizeNBits } from '../../../src/model/quantize/nbits.js';
import { referenceDecoderLogits } from '../../../src/model/reference/decoder.js';
import { referenceLogits } from '../../../src/model/reference/llama.js';
import type { HostTensor } from '../../../src/model/tensor.js';
import { MOE, PHI, tinyModel, type TinyModel } from '../llama/fixtures.js';


function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

/** Rows of different lengths, left-padded to `width` as the generator feeds them. */
function leftPadded(rows: number[][], width: number) {
  return {
    inputIds: rows.map((r) => [...Array(width - r.length).fill(0), ...r]),
    attentionMask: rows.map((r) => [...Array(width - r.length).fill(0), ...r.map(() => 1)]),
    positionIds: rows.map((r) => [...Array(width - r.length).fill(1), ...r.map((_, t) => t)]),
  };
}

/** The reference's logits of the real positions of each row, concatenated, and the graph's alike. */
function realPositions(logits: ArrayLike<number>, rows: number[][], width: number, V: number): number[] {
  const out: number[] = [];
  rows.forEach((r, b) => {
    for (let t = width - r.length; t < width; t++) for (let v = 0; v < V; v++) out.push(logits[(b * width + t) * V + v]!);
  });
  return out;
}

/** The model's linears quantized to int4 (blocks of 16) and the weights the quantized graph computes with. */
function dequantized(model: TinyModel): Map<string, HostTensor> {
  const arch = decoderArchitecture(model.cfg);
  const out = new Map(model.weights);
  for (let l = 0; l < model.cfg.numHiddenLayers; l++)
    for (const m of arch.linearModules(model.cfg)) {
      if (arch.unquantized?.includes(m)) continue;
      const name = `${arch.linearPath(l, m)}.weight`;
      const w = model.weights.get(name)!;
      const q = quantizeNBits(w.data as Float32Array, w.shape[0]!, w.shape[1]!, { bits: 4, blockSize: 16, symmetric: false });
      out.set(name, { dtype: 'F32', shape: w.shape, data: dequantizeNBits(q) });
    }
  return out;
}

const rows = [[3, 17, 5, 42, 8, 8, 21], [33, 9, 4], [12]];
const width = 7;

const models: Array<[string, Record<string, unknown>]> = [
  ['phi (partial rotary 0.5, biases, LM head bias)', PHI],
  ['phi tied, GQA 4:2', { ...PHI, num_key_value_heads: 2, tie_word_embeddings: true }],
  ['qwen2_moe (4 experts, top-2)', MOE],
  ['qwen2_moe tied, norm_topk_prob', { ...MOE, tie_word_embeddings: true, norm_topk_prob: true, num_experts_per_tok: 3 }],
];

describe('decoder graphs of phi and qwen2_moe vs the float64 reference', () => {
  for (const [label, overrides] of models) {
    it(`${label}: left-padded prefill and two KV-cache steps within 1e-4 relative, float32 and int4`, async () => {
      const model = tinyModel(overrides);
      const V = model.cfg.vocabSize;
      for (const quantized of [false, true]) {
        const graph = buildDecoderGraph(model.cfg, model.weights, quantized ? { quantization: { bits: 4, blockSize: 16, symmetric: false } } : {});
        const runner = await DecoderRunner.create(model.cfg, graph.toBytes(), 1);
        const weights = quantized ? dequantized(model) : model.weights;
        try {
          const feed = leftPadded(rows, width);
          const prefill = await runner.step(feed);
          const ref = referenceDecoderLogits(model.cfg, weights, { B: rows.length, T: width, ids: feed.inputIds.flat(), attentionMask: feed.attentionMask.flat(), positions: feed.positionIds.flat() });
          expect(relErr(realPositions(prefill.logits, rows, width, V), realPositions(ref, rows, width, V)), `prefill, int4 ${quantized}`).toBeLessThan(1e-4);
          // Two decode steps: each row's logits are those of the row extended and run alone.
          const extra = [7, 4];
          let mask = feed.attentionMask;
          for (let s = 0; s < extra.length; s++) {
            mask = mask.map((m) => [...m, 1]);
            const step = await runner.step({ inputIds: rows.map(() => [extra[s]!]), attentionMask: mask, positionIds: rows.map((r) => [r.length + s]) });
            rows.forEach((r, b) => {
              const alone = [...r, ...extra.slice(0, s + 1)];
              const refRow = referenceDecoderLogits(model.cfg, weights, { B: 1, T: alone.length, ids: alone, attentionMask: alone.map(() => 1) });
              expect(relErr(step.logits.subarray(b * V, (b + 1) * V), refRow.subarray((alone.length - 1) * V)), `step ${s} row ${b}, int4 ${quantized}`).toBeLessThan(1e-4);
            });
          }
        } finally {
          await runner.release();
        }
      }
    });
  }

  it('the generic float64 reference agrees with the llama reference on llama and qwen2', () => {
    for (const overrides of [{}, { model_type: 'qwen2', tie_word_embeddings: true }]) {
      const model = tinyModel(overrides);
      const ids = rows[0]!;
      const a = referenceDecoderLogits(model.cfg, model.weights, { B: 1, T: ids.length, ids, attentionMask: ids.map(() => 1) });
      expect(relErr(a, referenceLogits(model.cfg, model.weights, ids))).toBeLessThan(1e-12);
    }
  });
});
