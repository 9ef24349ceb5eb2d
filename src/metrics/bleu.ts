/**
 * Sentence BLEU exactly as NLTK's `nltk.translate.bleu_score.sentence_bleu` computes it with
 * `SmoothingFunction().method1` and uniform 4-gram weights (the paper's public replication):
 *
 *   p_n   = clipped n-gram matches / max(1, hypothesis n-grams)          (modified_precision)
 *   p_n  := (0 + epsilon) / denominator   when the match count is 0     (method1, epsilon 0.1)
 *   BP    = 1 if c > r, 0 if c == 0, else exp(1 - r/c)                  (r: closest ref length,
 *                                                                          ties to the shorter)
 *   BLEU  = BP * exp(fsum(w_n * log p_n)),   and 0 when no unigram matches at all.
 *
 * `bleu(prediction, reference)` tokenises like the replication: `text.lower().split()`.
 */
import { fsum, lowerWhitespaceTokens } from './python-text.js';
import { TokenInterner, clippedMatchesUpTo, clippedOverlap, ngramCounts, type NgramKey } from './ngrams.js';

export interface SentenceBleuOptions {
  /** N-gram weights; default uniform over 1..4. */
  weights?: readonly number[];
  /** method1's epsilon; default 0.1. */
  epsilon?: number;
}

/** NLTK `closest_ref_length`: the reference length nearest the hypothesis length, ties to the shorter. */
export function closestRefLength(refLengths: readonly number[], hypLength: number): number {
  let best = refLengths[0] ?? 0;
  for (const len of refLengths) {
    const d = Math.abs(len - hypLength);
    const bd = Math.abs(best - hypLength);
    if (d < bd || (d === bd && len < best)) best = len;
  }
  return best;
}

/** NLTK `brevity_penalty(closest_ref_len, hyp_len)`. */
export function brevityPenalty(refLength: number, hypLength: number): number {
  if (hypLength > refLength) return 1;
  if (hypLength === 0) return 0;
  return Math.exp(1 - refLength / hypLength);
}

/** NLTK sentence_bleu(references, hypothesis, weights, smoothing_function=method1) on token lists. */
export function sentenceBleu(references: readonly (readonly string[])[], hypothesis: readonly string[], options: SentenceBleuOptions = {}): number {
  const weights = options.weights ?? [0.25, 0.25, 0.25, 0.25];
  const epsilon = options.epsilon ?? 0.1;
  const interner = new TokenInterner();
  const hypIds = interner.intern(hypothesis);
  const refIds = references.map((r) => interner.intern(r));
  const vocab = interner.size;
  let numerators: number[];
  let denominators: number[];
  if (refIds.length === 1) {
    // one reference (the common case): a single pass over all orders
    const { matches, totals } = clippedMatchesUpTo(hypIds, refIds[0]!, weights.length, vocab);
    numerators = matches;
    denominators = totals.map((t) => Math.max(1, t));
  } else {
    numerators = [];
    denominators = [];
    for (let n = 1; n <= weights.length; n++) {
      const hypCounts = hypIds.length >= n ? ngramCounts(hypIds, n, vocab) : new Map<NgramKey, number>();
      // max over references of each n-gram's count (NLTK: max_counts)
      const maxRef = new Map<NgramKey, number>();
      for (const ids of refIds) for (const [k, c] of ngramCounts(ids, n, vocab)) if (c > (maxRef.get(k) ?? 0)) maxRef.set(k, c);
      let total = 0;
      for (const c of hypCounts.values()) total += c;
      numerators.push(clippedOverlap(hypCounts, maxRef));
      denominators.push(Math.max(1, total));
    }
  }
  return bleuFromCounts(numerators, denominators, hypothesis.length, references.map((r) => r.length), weights, epsilon);
}

/**
 * The tail of sentence_bleu from clipped match counts: numerators[n-1] matches and
 * denominators[n-1] = max(1, hypothesis n-grams) per order, the hypothesis and reference lengths.
 */
export function bleuFromCounts(
  numerators: readonly number[],
  denominators: readonly number[],
  hypLen: number,
  refLengths: readonly number[],
  weights: readonly number[] = [0.25, 0.25, 0.25, 0.25],
  epsilon = 0.1,
): number {
  if (numerators[0] === 0) return 0;
  const bp = brevityPenalty(closestRefLength(refLengths, hypLen), hypLen);
  const logs = weights.map((w, i) => {
    const num = numerators[i]!;
    const p = num === 0 ? (num + epsilon) / denominators[i]! : num / denominators[i]!;
    return w * Math.log(p);
  });
  return bp * Math.exp(fsum(logs));
}

/** The replication's per-record BLEU: sentence_bleu([ref.lower().split()], pred.lower().split(), method1). */
export function bleu(prediction: string, reference: string): number {
  return sentenceBleu([lowerWhitespaceTokens(reference)], lowerWhitespaceTokens(prediction));
}
