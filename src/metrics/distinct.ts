/**
 * Distinct-n (Li et al., 2016), as this project defines it: over all predictions together,
 * the number of unique n-grams divided by the total number of n-grams, tokens being the
 * Python `str.split()` whitespace tokens of the text (case kept). 0 when there are no n-grams.
 * The per-record variant is the same ratio within one prediction.
 */
import { pySplit } from './python-text.js';

/** Accumulates n-gram types and tokens over a corpus of predictions. */
export class DistinctCounter {
  private readonly seen = new Set<string | number>();
  private totalNgrams = 0;
  constructor(readonly n: number) {}

  /**
   * Adds precomputed n-gram keys of one prediction (see ngramKeys): equal keys mean equal
   * n-grams, so many groups can share one tokenisation.
   */
  addKeys(keys: ReadonlyArray<string | number>): void {
    for (const k of keys) this.seen.add(k);
    this.totalNgrams += keys.length;
  }

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

/** Interns whitespace tokens into small integers shared across predictions. */
export class TokenIds {
  private readonly ids = new Map<string, number>();
  of(tokens: readonly string[]): number[] {
    return tokens.map((t) => {
      let id = this.ids.get(t);
      if (id === undefined) this.ids.set(t, (id = this.ids.size));
      return id;
    });
  }
}

const KEY_BASE = 2 ** 26;

/**
 * The n-gram keys (n = 1 or 2) of a prediction's token ids: the id itself for unigrams,
 * a * 2^26 + b for bigrams while ids stay below 2^26 (exact in a double), else "a,b".
 */
export function ngramKeys(ids: readonly number[], n: 1 | 2): Array<string | number> {
  if (n === 1) return [...ids];
  const keys: Array<string | number> = [];
  for (let i = 0; i + 1 < ids.length; i++) {
    const a = ids[i]!;
    const b = ids[i + 1]!;
    keys.push(a < KEY_BASE && b < KEY_BASE ? a * KEY_BASE + b : `${a},${b}`);
  }
  return keys;
}
