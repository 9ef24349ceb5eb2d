/**
 * ROUGE exactly as Google's `rouge-score` (`rouge_scorer.RougeScorer(types, use_stemmer=True)`)
 * computes it, called as `score(target=reference, prediction=prediction)`:
 *
 * - tokens: lowercase; every run of characters outside [a-z0-9] becomes a space; split on spaces;
 *   tokens longer than 3 characters go through NLTK's Porter stemmer; empty tokens dropped.
 * - rougeN: clipped n-gram overlap; P = overlap / max(1, prediction n-grams),
 *   R = overlap / max(1, target n-grams).
 * - rougeL: LCS length; P = lcs / |prediction|, R = lcs / |target| (0 when either is empty).
 * - rougeLsum: texts split on '\n' (empty lines dropped), union-LCS of each target line against
 *   all prediction lines, hits counted once per token occurrence (summary-level LCS).
 * - F = 2PR / (P + R), or 0 when P + R = 0.
 */
import { porterStem } from './porter.js';
import { TokenInterner, clippedOverlap, ngramCounts } from './ngrams.js';

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

export type RougeType = 'rouge1' | 'rouge2' | 'rougeL' | 'rougeLsum';

const ZERO: RougeScore = { precision: 0, recall: 0, fmeasure: 0 };
const NON_ALPHANUM = /[^a-z0-9]+/g;

// Stems depend only on the word; the cache is bounded so a huge corpus cannot grow it forever.
const stemCache = new Map<string, string>();
const STEM_CACHE_LIMIT = 200_000;

function cachedStem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    s = porterStem(word);
    if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
    stemCache.set(word, s);
  }
  return s;
}

/** rouge-score `tokenize.tokenize(text, PorterStemmer())`. */
export function rougeTokenize(text: string, useStemmer = true): string[] {
  const cleaned = text.toLowerCase().replace(NON_ALPHANUM, ' ');
  const tokens: string[] = [];
  for (const raw of cleaned.split(' ')) {
    if (raw === '') continue;
    tokens.push(useStemmer && raw.length > 3 ? cachedStem(raw) : raw);
  }
  return tokens;
}

/** rouge-score `scoring.fmeasure`. */
export function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

/** rouge-score `_score_ngrams` on token lists. */
export function rougeN(target: readonly string[], prediction: readonly string[], n: number): RougeScore {
  const interner = new TokenInterner();
  const t = interner.intern(target);
  const p = interner.intern(prediction);
  const tc = ngramCounts(t, n, interner.size);
  const pc = ngramCounts(p, n, interner.size);
  const overlap = clippedOverlap(tc, pc);
  const precision = overlap / Math.max(Math.max(p.length - n + 1, 0), 1);
  const recall = overlap / Math.max(Math.max(t.length - n + 1, 0), 1);
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** LCS length of two id sequences, one rolling row (O(|b|) memory; row.length > |b|). */
export function lcsLength(a: ArrayLike<number>, b: ArrayLike<number>, row: Int32Array): number {
  row.fill(0, 0, b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0; // table[i-1][j-1]
    const ai = a[i - 1]!;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!; // table[i-1][j]
      row[j] = ai === b[j - 1] ? diag + 1 : Math.max(up, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

let scratch = new Int32Array(256);
/** A shared scratch row of at least `size` entries for lcsLength (not re-entrant). */
export function scratchRow(size: number): Int32Array {
  if (scratch.length < size) scratch = new Int32Array(size * 2);
  return scratch;
}

/** rouge-score `_score_lcs` on token lists. */
export function rougeL(target: readonly string[], prediction: readonly string[]): RougeScore {
  if (target.length === 0 || prediction.length === 0) return { ...ZERO };
  const interner = new TokenInterner();
  const t = interner.intern(target);
  const p = interner.intern(prediction);
  const lcs = lcsLength(t, p, scratchRow(p.length + 1));
  const precision = lcs / p.length;
  const recall = lcs / t.length;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** Indices into `ref` of one LCS with `can`, chosen by rouge-score's `_backtrack_norec`. */
function lcsIndices(ref: Int32Array, can: Int32Array): number[] {
  const cols = can.length + 1;
  const table = new Int32Array((ref.length + 1) * cols);
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= can.length; j++) {
      table[i * cols + j] = ref[i - 1] === can[j - 1] ? table[(i - 1) * cols + j - 1]! + 1 : Math.max(table[(i - 1) * cols + j]!, table[i * cols + j - 1]!);
    }
  }
  const out: number[] = [];
  let i = ref.length;
  let j = can.length;
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      out.push(i - 1);
      i--;
      j--;
    } else if (table[i * cols + j - 1]! > table[(i - 1) * cols + j]!) {
      j--;
    } else {
      i--;
    }
  }
  return out.reverse();
}

/** rouge-score `_summary_level_lcs` on per-line token lists. */
export function rougeLsumFromLines(targetLines: readonly (readonly string[])[], predictionLines: readonly (readonly string[])[]): RougeScore {
  if (targetLines.length === 0 || predictionLines.length === 0) return { ...ZERO };
  let m = 0;
  let n = 0;
  for (const s of targetLines) m += s.length;
  for (const s of predictionLines) n += s.length;
  if (m === 0 || n === 0) return { ...ZERO };
  const interner = new TokenInterner();
  const refs = targetLines.map((s) => interner.intern(s));
  const cans = predictionLines.map((s) => interner.intern(s));
  const countsR = new Int32Array(interner.size);
  const countsC = new Int32Array(interner.size);
  for (const s of refs) for (const id of s) countsR[id]!++;
  for (const s of cans) for (const id of s) countsC[id]!++;
  let hits = 0;
  for (const ref of refs) {
    // union over candidate lines of the LCS index sets, in index order
    const union = new Set<number>();
    for (const can of cans) for (const idx of lcsIndices(ref, can)) union.add(idx);
    const sorted = [...union].sort((a, b) => a - b);
    for (const idx of sorted) {
      const t = ref[idx]!;
      if (countsC[t]! > 0 && countsR[t]! > 0) {
        hits++;
        countsC[t]!--;
        countsR[t]!--;
      }
    }
  }
  const recall = hits / m;
  const precision = hits / n;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** rouge-score's line split for rougeLsum (split_summaries=False): '\n', empty lines dropped. */
export function summaryLines(text: string): string[] {
  return text.split('\n').filter((line) => line.length > 0);
}

/** All four ROUGE scores of one (target, prediction) pair, tokenising each text once. */
export function rougeScores(target: string, prediction: string, useStemmer = true): Record<RougeType, RougeScore> {
  const t = rougeTokenize(target, useStemmer);
  const p = rougeTokenize(prediction, useStemmer);
  const tLines = target.includes('\n') ? summaryLines(target).map((s) => rougeTokenize(s, useStemmer)) : target.length > 0 ? [t] : [];
  const pLines = prediction.includes('\n') ? summaryLines(prediction).map((s) => rougeTokenize(s, useStemmer)) : prediction.length > 0 ? [p] : [];
  const l = rougeL(t, p);
  // One line each: the union LCS is the LCS itself and every LCS token is a hit, so
  // summary-level LCS equals rougeL (both are 0 when a side has no tokens).
  const lsum = tLines.length === 1 && pLines.length === 1 ? { ...l } : rougeLsumFromLines(tLines, pLines);
  return { rouge1: rougeN(t, p, 1), rouge2: rougeN(t, p, 2), rougeL: l, rougeLsum: lsum };
}
