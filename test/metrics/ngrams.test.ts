import { describe, expect, it } from 'vitest';
import { clippedMatchesUpTo, clippedOverlap, ngramCounts } from '../../src/metrics/ngrams.js';
import { Prng } from '../../src/core/prng.js';

describe('clippedMatchesUpTo', () => {
  it('equals per-order clipped overlap of n-gram counts, for numeric and string keys', () => {
    const rng = new Prng(3);
    for (const vocab of [5, 3000, 2 ** 20]) {
      for (let trial = 0; trial < 20; trial++) {
        const hyp = Int32Array.from({ length: rng.int(30) }, () => rng.int(Math.min(vocab, 6)) * Math.floor(vocab / 6));
        const ref = Int32Array.from({ length: rng.int(30) }, () => rng.int(Math.min(vocab, 6)) * Math.floor(vocab / 6));
        const { matches, totals } = clippedMatchesUpTo(hyp, ref, 4, vocab);
        for (let n = 1; n <= 4; n++) {
          expect(matches[n - 1]).toBe(clippedOverlap(ngramCounts(hyp, n, vocab), ngramCounts(ref, n, vocab)));
          expect(totals[n - 1]).toBe(Math.max(0, hyp.length - n + 1));
        }
      }
    }
  });
});
