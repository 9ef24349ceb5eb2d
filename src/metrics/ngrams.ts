/**
 * N-gram counting over token ids. Tokens are interned to small integers per comparison so that
 * an n-gram key is one number (exact while vocab^n < 2^53) or, past that, the ids joined by
 * commas: either way two n-grams share a key exactly when their tokens are equal.
 */

export type NgramKey = number | string;

/** Interns tokens of several sequences into one id space. */
export class TokenInterner {
  private readonly ids = new Map<string, number>();
  intern(tokens: readonly string[]): Int32Array {
    const out = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      let id = this.ids.get(t);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(t, id);
      }
      out[i] = id;
    }
    return out;
  }
  get size(): number {
    return this.ids.size;
  }
}

/** Counts of each n-gram of order n in `ids` (empty when ids.length < n). */
export function ngramCounts(ids: Int32Array, n: number, vocabSize: number): Map<NgramKey, number> {
  const counts = new Map<NgramKey, number>();
  const numeric = Math.pow(Math.max(vocabSize, 2), n) < Number.MAX_SAFE_INTEGER;
  for (let i = 0; i + n <= ids.length; i++) {
    let key: NgramKey;
    if (numeric) {
      let k = 0;
      for (let j = 0; j < n; j++) k = k * vocabSize + ids[i + j]!;
      key = k;
    } else {
      key = Array.from(ids.subarray(i, i + n)).join(',');
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Sum over n-grams of min(count in a, count in b): the clipped overlap. */
export function clippedOverlap(a: Map<NgramKey, number>, b: Map<NgramKey, number>): number {
  let overlap = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const [key, count] of small) {
    const other = large.get(key);
    if (other !== undefined) overlap += Math.min(count, other);
  }
  return overlap;
}

/**
 * Clipped n-gram matches of `hyp` against one reference for orders 1..maxOrder in a single pass:
 * matches[n-1] = Σ_g min(count_hyp(g), count_ref(g)) over n-grams g, totals[n-1] = number of hyp
 * n-grams. Each hyp n-gram consumes one remaining reference copy, which is the same sum.
 */
export function clippedMatchesUpTo(hyp: Int32Array, ref: Int32Array, maxOrder: number, vocabSize: number): { matches: number[]; totals: number[] } {
  const base = Math.max(vocabSize, 2);
  const numeric = Math.pow(base, maxOrder) * maxOrder < Number.MAX_SAFE_INTEGER;
  const key = (ids: Int32Array, i: number, n: number): NgramKey => {
    if (!numeric) return `${n}:${Array.from(ids.subarray(i, i + n)).join(',')}`;
    let k = 0;
    for (let j = 0; j < n; j++) k = k * base + ids[i + j]!;
    return k * maxOrder + (n - 1);
  };
  const remaining = new Map<NgramKey, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= ref.length; i++) {
      const k = key(ref, i, n);
      remaining.set(k, (remaining.get(k) ?? 0) + 1);
    }
  }
  const matches = new Array<number>(maxOrder).fill(0);
  const totals = new Array<number>(maxOrder).fill(0);
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= hyp.length; i++) {
      totals[n - 1]!++;
      const k = key(hyp, i, n);
      const c = remaining.get(k);
      if (c !== undefined && c > 0) {
        matches[n - 1]!++;
        remaining.set(k, c - 1);
      }
    }
  }
  return { matches, totals };
}
