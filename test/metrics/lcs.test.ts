import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.js';
import { BitLcs } from '../../src/metrics/lcs.js';
import { lcsLength } from '../../src/metrics/rouge.js';

describe('BitLcs (bit-parallel LCS length)', () => {
  it('equals the dynamic-programming LCS on random sequences of 0–150 symbols', () => {
    const rng = new Prng(41);
    const lcs = new BitLcs();
    for (let k = 0; k < 3000; k++) {
      const vocab = 1 + rng.int(k % 3 === 0 ? 3 : 40);
      const offset = rng.int(4) === 0 ? 100_000 : 0;
      const seq = (): number[] => Array.from({ length: rng.int(k % 10 === 0 ? 150 : 70) }, () => offset + rng.int(vocab));
      const a = seq();
      const b = seq();
      expect(lcs.length(a, b)).toBe(lcsLength(a, b, new Int32Array(b.length + 1)));
    }
  });

  it('hand cases: empty, identical, disjoint, word-boundary lengths', () => {
    const lcs = new BitLcs();
    expect(lcs.length([], [1, 2])).toBe(0);
    expect(lcs.length([1, 2, 3], [])).toBe(0);
    expect(lcs.length([1, 2, 3, 4], [1, 2, 3, 4])).toBe(4);
    expect(lcs.length([1, 2], [3, 4])).toBe(0);
    expect(lcs.length([1, 2, 3, 4, 5], [5, 1, 3, 2, 4])).toBe(3);
    for (const n of [31, 32, 33, 64, 65]) {
      const a = Array.from({ length: n }, (_, i) => i % 7);
      expect(lcs.length(a, a)).toBe(n);
      expect(lcs.length(a, [...a].reverse())).toBe(lcsLength(a, [...a].reverse(), new Int32Array(n + 1)));
    }
  });
});
