/**
 * Distinct-n (Li et al., 2016), as this project defines it: over all predictions together,
 * the number of unique n-grams divided by the total number of n-grams, tokens being the
 * Python `str.split()` whitespace tokens of the text (case kept). 0 when there are no n-grams.
 * The per-record variant is the same ratio within one prediction.
 * The scorer computes it in LexicalPass (lexical-pass.ts, shared token ids); this string-keyed
 * version is the independent reference its tests compare against.
 */
import { pySplit } from './python-text.js';

/** Accumulates n-gram types and tokens over a corpus of predictions. */
export class DistinctCounter {
  private readonly seen = new Set<string>();
  private totalNgrams = 0;
  constructor(readonly n: number) {}

  add(prediction: string): void {
    this.addTokens(pySplit(prediction));
  }

  /** Adds an already tokenised prediction (pySplit tokens). */
  addTokens(tokens: readonly string[]): void {
    for (let i = 0; i + this.n <= tokens.length; i++) {
      // tokens contain no whitespace, so a space-joined key is unambiguous
      this.seen.add(this.n === 1 ? tokens[i]! : tokens.slice(i, i + this.n).join(' '));
      this.totalNgrams++;
    }
  }

  get value(): number {
    return this.totalNgrams === 0 ? 0 : this.seen.size / this.totalNgrams;
  }
}

/** Corpus-level distinct-n over all predictions. */
export function distinctN(predictions: readonly string[], n: number): number {
  const counter = new DistinctCounter(n);
  for (const p of predictions) counter.add(p);
  return counter.value;
}

/** Distinct-n of one prediction (the per-record figure in records.jsonl). */
export function recordDistinctN(prediction: string, n: number): number {
  return distinctN([prediction], n);
}
