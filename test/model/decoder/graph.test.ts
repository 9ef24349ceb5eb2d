import { describe, expect, it } from 'vitest';
import { buildDecoderGraph } from '../../../src/model/decoder/graph.js';
import { DecoderRunner } from '../../../src/model/decoder/runner.js';
import { referenceLogits } from '../../../src/model/reference/llama.js';
import { tinyModel, type TinyModel } from '../llama/fixtures.js';

/** max |a - b| / max |b| over all elements. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

async function runner(model: TinyModel): Promise<DecoderRunner> {
  return DecoderRunner.create(model.cfg, buildDecoderGraph(model.cfg, model.weights).toBytes(), 1);
}

const ids = [3, 17, 5, 42, 8, 8, 21, 0, 33];

const variants: Array<[string, Record<string, unknown>]> = [
  ['llama GQA untied', {}],
  ['llama MHA tied', { num_key_value_heads: 4, tie_word_embeddings: true }],
  ['qwen2 biases tied', { model_type: 'qwen2', tie_word_embeddings: true }],
  ['qwen2 biases untied, GQA 4:1', { model_type: 'qwen2', num_key_value_heads: 1 }],
];

describe('llama ONNX graph vs float64 reference', () => {
  for (const [label, overrides] of variants) {
    it(`${label}: full-sequence logits within 1e-4 relative`, async () => {
      const model = tinyModel(overrides);
      const r = await runner(model);
      const out = await r.step({ inputIds: [ids], attentionMask: [ids.map(() => 1)], positionIds: [ids.map((_, t) => t)] });
      expect(out.dims).toEqual([1, ids.length, model.cfg.vocabSize]);
      expect(relErr(out.logits, referenceLogits(model.cfg, model.weights, ids))).toBeLessThan(1e-4);
      await r.release();
    });
  }

  it('KV cache: prefill then one-token decode steps match the uncached reference', async () => {
    const model = tinyModel({ model_type: 'qwen2' });
    const V = model.cfg.vocabSize;
    const ref = referenceLogits(model.cfg, model.weights, ids);
    const r = await runner(model);
    const prefill = 4;
    const first = await r.step({ inputIds: [ids.slice(0, prefill)], attentionMask: [Array(prefill).fill(1)], positionIds: [[0, 1, 2, 3]] });
    expect(relErr(first.logits, ref.subarray(0, prefill * V))).toBeLessThan(1e-4);
    for (let t = prefill; t < ids.length; t++) {
      const step = await r.step({ inputIds: [[ids[t]!]], attentionMask: [Array(t + 1).fill(1)], positionIds: [[t]] });
      expect(step.dims).toEqual([1, 1, V]);
      expect(relErr(step.logits, ref.subarray(t * V, (t + 1) * V))).toBeLessThan(1e-4);
    }
    expect(r.pastLength).toBe(ids.length);
    await r.release();
  });

  it('left-padded batch gives each row the logits of the row run alone', async () => {
    const model = tinyModel();
    const V = model.cfg.vocabSize;
    const rows = [ids.slice(0, 6), ids.slice(2, 5), [9]];
    const width = 6;
    const r = await runner(model);
    const padded = rows.map((row) => [...Array(width - row.length).fill(0), ...row]);
    const mask = rows.map((row) => [...Array(width - row.length).fill(0), ...row.map(() => 1)]);
    const pos = rows.map((row) => [...Array(width - row.length).fill(1), ...row.map((_, t) => t)]);
    const batch = await r.step({ inputIds: padded, attentionMask: mask, positionIds: pos });
    // Two decode steps with the same token on every row.
    const steps = [await r.step({ inputIds: rows.map(() => [7]), attentionMask: mask.map((m) => [...m, 1]), positionIds: rows.map((row) => [row.length]) })];
    steps.push(await r.step({ inputIds: rows.map(() => [4]), attentionMask: mask.map((m) => [...m, 1, 1]), positionIds: rows.map((row) => [row.length + 1]) }));
    rows.forEach((row, b) => {
      const ref = referenceLogits(model.cfg, model.weights, [...row, 7, 4]);
      const off = width - row.length;
      const got = batch.logits.subarray((b * width + off) * V, (b + 1) * width * V);
      expect(relErr(got, ref.subarray(0, row.length * V))).toBeLessThan(1e-4);
      expect(relErr(steps[0]!.logits.subarray(b * V, (b + 1) * V), ref.subarray(row.length * V, (row.length + 1) * V))).toBeLessThan(1e-4);
      expect(relErr(steps[1]!.logits.subarray(b * V, (b + 1) * V), ref.subarray((row.length + 1) * V, (row.length + 2) * V))).toBeLessThan(1e-4);
    });
    await r.release();
  });
});
