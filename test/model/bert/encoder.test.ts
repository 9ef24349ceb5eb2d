import { describe, expect, it } from 'vitest';
import { randomBertWeights } from '../../../src/model/bert/random-weights.js';
import type { HostTensor } from '../../../src/model/tensor.js';
import { buildBertEncoderGraph, embedSequences, type BertEncoderConfig, type EncoderSession } from '../../../src/model/bert/encoder.js';
import { bertScore } from '../../../src/metrics/bertscore/score.js';
import { i64Tensor, loadOrt, sessionFromGraph } from '../../../src/model/onnx/session.js';

const V = 40;
const P = 48;
const cfg: BertEncoderConfig = { hiddenSize: 16, numHeads: 2, intermediateSize: 24, layers: 2, layerNormEps: 1e-12, positionOffset: 2 };

function tinyWeights(seed: number): Map<string, HostTensor> {
  return randomBertWeights(cfg, { vocab: V, positions: P, layers: 3 }, seed);
}

/** Float64 reference of one unpadded sequence: hidden states after cfg.layers layers, [T][H]. */
function reference(w: Map<string, HostTensor>, ids: number[]): number[][] {
  const H = cfg.hiddenSize;
  const get = (n: string): Float32Array => w.get(n)!.data as Float32Array;
  const ln = (x: number[], prefix: string): number[] => {
    const g = get(`${prefix}.weight`);
    const b = get(`${prefix}.bias`);
    const mean = x.reduce((a, c) => a + c, 0) / x.length;
    const v = x.reduce((a, c) => a + (c - mean) ** 2, 0) / x.length;
    return x.map((c, i) => ((c - mean) / Math.sqrt(v + cfg.layerNormEps)) * g[i]! + b[i]!);
  };
  const lin = (x: number[], prefix: string): number[] => {
    const W = get(`${prefix}.weight`);
    const b = get(`${prefix}.bias`);
    const out = b.length;
    return Array.from({ length: out }, (_, o) => x.reduce((a, c, i) => a + c * W[o * x.length + i]!, b[o]!));
  };
  let xs = ids.map((id, t) => Array.from({ length: H }, (_, k) => get('embeddings.word_embeddings.weight')[id * H + k]! + get('embeddings.position_embeddings.weight')[(t + cfg.positionOffset) * H + k]! + get('embeddings.token_type_embeddings.weight')[k]!)).map((x) => ln(x, 'embeddings.LayerNorm'));
  const hd = H / cfg.numHeads;
  for (let l = 0; l < cfg.layers; l++) {
    const p = `encoder.layer.${l}`;
    const q = xs.map((x) => lin(x, `${p}.attention.self.query`));
    const k = xs.map((x) => lin(x, `${p}.attention.self.key`));
    const v = xs.map((x) => lin(x, `${p}.attention.self.value`));
    const ctx = xs.map((_, i) => {
      const out = new Array<number>(H).fill(0);
      for (let h = 0; h < cfg.numHeads; h++) {
        const s = k.map((kj) => { let d = 0; for (let c = 0; c < hd; c++) d += q[i]![h * hd + c]! * kj[h * hd + c]!; return d / Math.sqrt(hd); });
        const m = Math.max(...s);
        const e = s.map((z) => Math.exp(z - m));
        const z = e.reduce((a, c) => a + c, 0);
        e.forEach((ej, j) => { for (let c = 0; c < hd; c++) out[h * hd + c]! += (ej / z) * v[j]![h * hd + c]!; });
      }
      return out;
    });
    const x1 = xs.map((x, i) => ln(lin(ctx[i]!, `${p}.attention.output.dense`).map((c, j) => c + x[j]!), `${p}.attention.output.LayerNorm`));
    xs = x1.map((x) => {
      // exact GELU via a high-accuracy erf series (Abramowitz–Stegun 7.1.26 is too coarse here)
      const h = lin(x, `${p}.intermediate.dense`).map((u) => 0.5 * u * (1 + erf(u / Math.SQRT2)));
      return ln(lin(h, `${p}.output.dense`).map((c, j) => c + x[j]!), `${p}.output.LayerNorm`);
    });
  }
  return xs;
}

/** erf by its Maclaurin series (|x| < 3) or the continued fraction tail: float64-accurate. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 80; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

describe('BERT encoder graph (ONNX, model engine builder)', () => {
  it('matches a float64 reference on a tiny random encoder, with right padding', async () => {
    const w = tinyWeights(11);
    const graph = await buildBertEncoderGraph(cfg, w);
    const session = await sessionFromGraph(graph, { threads: 1 });
    const ort = await loadOrt();
    const seqs = [[0, 5, 9, 13, 2], [0, 7, 2]];
    const T = 5;
    const idsFlat: number[] = [];
    const maskFlat: number[] = [];
    for (const s of seqs) for (let t = 0; t < T; t++) {
      idsFlat.push(s[t] ?? 1);
      maskFlat.push(t < s.length ? 1 : 0);
    }
    const out = await session.run({ input_ids: i64Tensor(ort, idsFlat, [2, T]), attention_mask: i64Tensor(ort, maskFlat, [2, T]) });
    const hidden = out.hidden!.data as Float32Array;
    expect(out.hidden!.dims).toEqual([2, T, cfg.hiddenSize]);
    let maxDiff = 0;
    seqs.forEach((s, b) => {
      const ref = reference(w, s);
      for (let t = 0; t < s.length; t++) for (let k = 0; k < cfg.hiddenSize; k++) {
        maxDiff = Math.max(maxDiff, Math.abs(hidden[(b * T + t) * cfg.hiddenSize + k]! - ref[t]![k]!));
      }
    });
    // float32 graph vs float64 reference after 2 layers: measured ~8e-7
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('embeds batches in input order and gives BERTScore 1 for identical texts', async () => {
    const w = tinyWeights(5);
    const session = (await sessionFromGraph(await buildBertEncoderGraph(cfg, w), { threads: 1 })) as unknown as EncoderSession;
    const seqs = [[0, 5, 9, 13, 2], [0, 7, 2], [0, 8, 8, 3, 4, 11, 2]];
    const emb = await embedSequences(session, seqs, { padId: 1, batchSize: 2 });
    expect(emb.map((e) => e.ids)).toEqual(seqs);
    // a sequence embedded alone equals the same sequence inside a padded batch
    const alone = await embedSequences(session, [seqs[1]!], { padId: 1 });
    const d = Math.max(...Array.from(alone[0]!.embeddings, (v, i) => Math.abs(v - emb[1]!.embeddings[i]!)));
    expect(d).toBeLessThan(1e-5);
    const specialIds = new Set([0, 1, 2]);
    const same = bertScore([emb[0]!], [emb[0]!], { specialIds })[0]!;
    expect(Math.abs(same.f1 - 1)).toBeLessThan(1e-6);
    const other = bertScore([emb[0]!], [emb[2]!], { specialIds })[0]!;
    expect(other.f1).toBeLessThan(1);
  });

  it('names a missing weight', async () => {
    const w = tinyWeights(1);
    w.delete('encoder.layer.1.output.dense.bias');
    await expect(buildBertEncoderGraph(cfg, w)).rejects.toThrow(/encoder.layer.1.output.dense.bias/);
  });
});
