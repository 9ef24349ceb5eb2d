import { describe, it } from 'vitest';
import { attentionBackward, attentionForward } from '../../../src/model/blocks/attention.js';
import { checkBlock } from './block-check.js';

// GQA 4:2, batch 2 with the second sequence's last two keys padded.
const B = 2, H = 4, KVH = 2, G = H / KVH, T = 5, D = 4;
const PAD = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]];

function maskBias(): Float64Array {
  const m = new Float64Array(B * T * T);
  for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) m[(b * T + i) * T + j] = j <= i && PAD[b]![j] ? 0 : -1e9;
  return m;
}

/** softmax(q·kᵀ/√D + mask)·v per query head, in the grouped layout [B, KVH, G, T, D]. */
function attention64(q: Float64Array, k: Float64Array, v: Float64Array, mask: Float64Array): Float64Array {
  const out = new Float64Array(B * H * T * D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / G);
      for (let t = 0; t < T; t++) {
        const s = new Float64Array(T);
        let max = -Infinity;
        for (let j = 0; j < T; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[((b * H + h) * T + t) * D + d]! * k[((b * KVH + kv) * T + j) * D + d]!;
          s[j] = dot / Math.sqrt(D) + mask[(b * T + t) * T + j]!;
          max = Math.max(max, s[j]!);
        }
        let sum = 0;
        for (let j = 0; j < T; j++) sum += s[j] = Math.exp(s[j]! - max);
        for (let j = 0; j < T; j++)
          for (let d = 0; d < D; d++) out[((b * H + h) * T + t) * D + d] += (s[j]! / sum) * v[((b * KVH + kv) * T + j) * D + d]!;
      }
    }
  return out; // [B, H, T, D] = [B, KVH, G, T, D] row-major
}

describe('causal GQA attention block', () => {
  it('forward equals the float64 reference (padding, GQA); dq, dk, dv match central finite differences', async () => {
    await checkBlock({
      inputs: { q: { dims: [B, H, T, D] }, k: { dims: [B, KVH, T, D] }, v: { dims: [B, KVH, T, D] }, mask: { dims: [B, 1, 1, T, T], data: maskBias(), constant: true } },
      outDims: [B, KVH, G, T, D],
      build(g, i) {
        const f = attentionForward(g, i.q!, i.k!, i.v!, i.mask!, { H, KVH, G, D });
        return { y: f.out, backward: (dy) => { const b = attentionBackward(g, dy, f.saved, { H, KVH, G, D }); return { q: b.dq, k: b.dk, v: b.dv }; } };
      },
      reference: (x) => attention64(x.q!, x.k!, x.v!, x.mask!),
    }, 3, { forward: 1e-5, gradient: 1e-4 });
  });
});
