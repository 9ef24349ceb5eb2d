import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import { attentionBias } from '../../../src/train/step/index.js';

describe('attentionBias', () => {
  it('is 0 exactly where query i may attend key j (j ≤ i and the key is not padding), −1e9 elsewhere', () => {
    const prng = new Prng(17);
    for (const [B, T] of [[1, 1], [2, 5], [3, 17]] as const) {
      // Sequence 0 random holes, sequence 1 left-padded by 2, sequence 2 padded everywhere but its first key.
      const pattern = (b: number, j: number): boolean => (b === 0 ? prng.next() < 0.7 : b === 1 ? j >= 2 : j === 0);
      const mask = BigInt64Array.from({ length: B * T }, (_, n) => (pattern(Math.floor(n / T), n % T) ? 1n : 0n));
      const bias = attentionBias({ B, T, attentionMask: mask });
      expect(bias.length).toBe(B * T * T);
      for (let b = 0; b < B; b++)
        for (let i = 0; i < T; i++)
          for (let j = 0; j < T; j++) {
            const open = j <= i && mask[b * T + j] !== 0n;
            expect(bias[(b * T + i) * T + j], `b ${b} i ${i} j ${j}`).toBe(open ? 0 : Math.fround(-1e9));
          }
    }
  });
});
