/**
 * The BERTScore algorithm (Zhang et al., 2020; the `bert-score` package's `greedy_cos_idf`)
 * on token embeddings that an encoder produced (hidden states of layer L):
 *
 *   x̂ = x / ||x||                      every token embedding L2-normalised
 *   S[i][j] = x̂_cand[i] · x̂_ref[j]     cosine similarities
 *   P = Σ_i w_cand[i] max_j S[i][j] / Σ_i w_cand[i]
 *   R = Σ_j w_ref[j]  max_i S[i][j] / Σ_j w_ref[j]
 *   F = 2PR / (P + R)                  (0 when P + R = 0)
 *
 * Weights: special tokens ([CLS]/[SEP], <s>/</s>) 0; otherwise 1, or with idf
 * log((M + 1) / (df + 1)) where M is the number of references and df how many of them contain
 * the token id. Baseline rescaling reports (x − b) / (1 − b). A side with no weighted token
 * (empty text, or idf weights all 0) scores P = R = F = 0, as bert-score does. Special tokens
 * still take part in the max of the other side's tokens (only their weights are 0).
 * Arithmetic is float64 throughout.
 */
import { InternalError } from '../../core/errors.js';

export interface EncodedText {
  /** Token ids, special tokens included, length T. */
  ids: readonly number[];
  /** Hidden states [T, D], row-major. */
  embeddings: Float32Array | Float64Array;
  dim: number;
}

export interface BertScoreOptions {
  /** Token ids that get weight 0 (the tokenizer's CLS/SEP or BOS/EOS). */
  specialIds: ReadonlySet<number>;
  idf?: boolean;
  /** [P, R, F] baselines for rescale_with_baseline. */
  baseline?: readonly [number, number, number];
}

export interface BertScoreTriple {
  precision: number;
  recall: number;
  f1: number;
}

/** bert-score `get_idf_dict`: token id → log((M+1)/(df+1)); ids never seen get log(M+1). */
export function idfWeights(references: ReadonlyArray<readonly number[]>): { weight(id: number): number } {
  const m = references.length;
  const df = new Map<number, number>();
  for (const ids of references) for (const id of new Set(ids)) df.set(id, (df.get(id) ?? 0) + 1);
  return { weight: (id: number) => Math.log((m + 1) / ((df.get(id) ?? 0) + 1)) };
}

function normalisedRows(t: EncodedText): Float64Array {
  const n = t.ids.length;
  const out = new Float64Array(n * t.dim);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let k = 0; k < t.dim; k++) ss += t.embeddings[i * t.dim + k]! ** 2;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let k = 0; k < t.dim; k++) out[i * t.dim + k] = t.embeddings[i * t.dim + k]! * inv;
  }
  return out;
}

/** Greedy matching of one candidate against one reference with the given token weights. */
export function greedyMatch(cand: EncodedText, ref: EncodedText, candWeights: readonly number[], refWeights: readonly number[]): BertScoreTriple {
  if (cand.dim !== ref.dim) throw new InternalError(`greedyMatch: embedding sizes differ (${cand.dim} vs ${ref.dim})`);
  const c = normalisedRows(cand);
  const r = normalisedRows(ref);
  const nc = cand.ids.length;
  const nr = ref.ids.length;
  const d = cand.dim;
  const bestForCand = new Float64Array(nc).fill(-Infinity);
  const bestForRef = new Float64Array(nr).fill(-Infinity);
  for (let i = 0; i < nc; i++) {
    for (let j = 0; j < nr; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += c[i * d + k]! * r[j * d + k]!;
      if (s > bestForCand[i]!) bestForCand[i] = s;
      if (s > bestForRef[j]!) bestForRef[j] = s;
    }
  }
  const weighted = (best: Float64Array, w: readonly number[]): number => {
    let num = 0;
    let den = 0;
    for (let i = 0; i < best.length; i++) {
      if (w[i]! === 0) continue;
      num += w[i]! * best[i]!;
      den += w[i]!;
    }
    return den > 0 ? num / den : 0;
  };
  // bert-score: an empty side (weights summing to 0) sets raw P and R to 0, and F then to 0
  const sum = (w: readonly number[]): number => w.reduce((a, b) => a + b, 0);
  if (sum(candWeights) === 0 || sum(refWeights) === 0) return { precision: 0, recall: 0, f1: 0 };
  const precision = weighted(bestForCand, candWeights);
  const recall = weighted(bestForRef, refWeights);
  const f1 = precision + recall !== 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/** BERTScore of aligned candidates and references. */
export function bertScore(candidates: readonly EncodedText[], references: readonly EncodedText[], options: BertScoreOptions): BertScoreTriple[] {
  if (candidates.length !== references.length) throw new InternalError(`bertScore: ${candidates.length} candidates but ${references.length} references`);
  const idf = options.idf ? idfWeights(references.map((r) => r.ids)) : undefined;
  const weights = (t: EncodedText): number[] => t.ids.map((id) => (options.specialIds.has(id) ? 0 : idf ? idf.weight(id) : 1));
  return candidates.map((cand, i) => {
    const ref = references[i]!;
    const s = greedyMatch(cand, ref, weights(cand), weights(ref));
    if (!options.baseline) return s;
    const [bp, br, bf] = options.baseline;
    return { precision: (s.precision - bp) / (1 - bp), recall: (s.recall - br) / (1 - br), f1: (s.f1 - bf) / (1 - bf) };
  });
}
