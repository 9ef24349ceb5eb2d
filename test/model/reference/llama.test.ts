import { describe, expect, it } from 'vitest';
import { applyRope, referenceLogits, rmsNorm } from '../../../src/model/reference/llama.js';
import { tinyModel } from '../llama/fixtures.js';

describe('float64 reference forward', () => {
  it('rmsNorm matches a hand computation', () => {
    // x = [3, 4]: mean square 12.5 → x / sqrt(12.5 + eps) * g
    const y = rmsNorm(Float64Array.from([3, 4]), 1, 2, Float64Array.from([1, 2]), 0);
    expect(y[0]).toBeCloseTo(3 / Math.sqrt(12.5), 12);
    expect(y[1]).toBeCloseTo((2 * 4) / Math.sqrt(12.5), 12);
  });

  it('RoPE is the identity at position 0, keeps norms, and makes q·k depend only on the offset', () => {
    const D = 8;
    const q = Float64Array.from({ length: D }, (_, i) => Math.sin(i + 1));
    const k = Float64Array.from({ length: D }, (_, i) => Math.cos(2 * i + 0.5));
    const at = (v: Float64Array, p: number): Float64Array => {
      const c = Float64Array.from(v);
      applyRope(c, 1, 1, D, [p], 10000);
      return c;
    };
    expect(Array.from(at(q, 0))).toEqual(Array.from(q));
    const norm = (v: Float64Array) => Math.hypot(...v);
    expect(norm(at(q, 5))).toBeCloseTo(norm(q), 12);
    const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    expect(dot(at(q, 7), at(k, 4))).toBeCloseTo(dot(at(q, 13), at(k, 10)), 10);
    // rotate_half pairs element i with i + D/2: at position 1 with i = 0 the angle is 1 rad.
    const e0 = new Float64Array(D);
    e0[0] = 1;
    const r = at(e0, 1);
    expect(r[0]).toBeCloseTo(Math.cos(1), 12);
    expect(r[D / 2]).toBeCloseTo(Math.sin(1), 12);
  });

  it('is causal: logits at t do not depend on later tokens', () => {
    const { cfg, weights } = tinyModel({ model_type: 'qwen2' });
    const V = cfg.vocabSize;
    const a = referenceLogits(cfg, weights, [4, 9, 13, 2]);
    const b = referenceLogits(cfg, weights, [4, 9, 30, 31]);
    expect(Array.from(a.subarray(0, 2 * V))).toEqual(Array.from(b.subarray(0, 2 * V)));
    expect(Array.from(a.subarray(2 * V, 3 * V))).not.toEqual(Array.from(b.subarray(2 * V, 3 * V)));
  });

  it('tied embeddings use the embedding matrix as the LM head', () => {
    const { cfg, weights } = tinyModel({ tie_word_embeddings: true });
    const untied = { ...cfg, tieWordEmbeddings: false };
    const w2 = new Map(weights);
    w2.set('lm_head.weight', weights.get('model.embed_tokens.weight')!);
    expect(Array.from(referenceLogits(cfg, weights, [5, 6]))).toEqual(Array.from(referenceLogits(untied, w2, [5, 6])));
  });
});
