import { describe, expect, it } from 'vitest';
import { pairedBootstrap, quantileSorted } from '../../src/report/bootstrap.js';
import { Prng } from '../../src/core/prng.js';

describe('pairedBootstrap', () => {
  it('quantiles interpolate linearly (numpy.percentile default)', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileSorted([1, 2, 3, 4, 10], 0.5)).toBe(3);
    expect(quantileSorted([5], 0.975)).toBe(5);
  });

  it('matches the normal approximation mean ± 1.96 sd/√n for a large sample (float64 reference)', () => {
    const prng = new Prng(11);
    const n = 1000;
    const base = Array.from({ length: n }, () => prng.next());
    const finetuned = base.map((b) => b + 0.05 + 0.2 * prng.normal());
    const d = pairedBootstrap(base, finetuned, { samples: 2000, seed: 5 })!;
    const diffs = finetuned.map((f, i) => f - base[i]!);
    const mean = diffs.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(diffs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    const half = 1.959964 * sd / Math.sqrt(n);
    expect(d.delta).toBeCloseTo(mean, 12);
    // the percentile interval of 2,000 resamples is within 10 % of the half-width of the normal one
    expect(Math.abs(d.ci_low - (mean - half))).toBeLessThan(0.1 * half);
    expect(Math.abs(d.ci_high - (mean + half))).toBeLessThan(0.1 * half);
    expect(d.ci_low).toBeGreaterThan(0);
  });

  it('covers zero when the systems do not differ, and is reproducible for a seed', () => {
    const prng = new Prng(2);
    const base = Array.from({ length: 300 }, () => prng.next());
    const finetuned = base.map((b, i) => b + (i % 2 === 0 ? 0.1 : -0.1));
    const a = pairedBootstrap(base, finetuned, { samples: 1000, seed: 9 })!;
    expect(a.ci_low).toBeLessThan(0);
    expect(a.ci_high).toBeGreaterThan(0);
    expect(pairedBootstrap(base, finetuned, { samples: 1000, seed: 9 })).toEqual(a);
    expect(pairedBootstrap(base, finetuned, { samples: 1000, seed: 10 })).not.toEqual(a);
  });

  it('returns null for no pairs and refuses misaligned arrays', () => {
    expect(pairedBootstrap([], [], { seed: 1 })).toBeNull();
    expect(() => pairedBootstrap([1], [1, 2], { seed: 1 })).toThrow(/1 base values but 2/);
  });
});
