import { describe, expect, it } from 'vitest';
import { Prng, deriveSeed } from '../../src/core/prng.js';
import { InternalError } from '../../src/core/errors.js';

describe('Prng', () => {
  it('is reproducible from its seed and differs across seeds', () => {
    const a = new Prng(42), b = new Prng(42), c = new Prng(43);
    const sa = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(sa);
  });

  it('draws uniform floats in [0,1) with the right mean and variance', () => {
    const p = new Prng(1);
    let s = 0, s2 = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const x = p.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      s += x; s2 += x * x;
    }
    // Standard error of the mean is sqrt(1/12/n) ~ 6.5e-4; 5 sigma.
    expect(Math.abs(s / n - 0.5)).toBeLessThan(3.3e-3);
    expect(Math.abs(s2 / n - (s / n) ** 2 - 1 / 12)).toBeLessThan(2e-3);
  });

  it('draws normals with mean 0 and variance 1', () => {
    const p = new Prng(2);
    let s = 0, s2 = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) { const x = p.normal(); s += x; s2 += x * x; }
    expect(Math.abs(s / n)).toBeLessThan(0.016);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it('int() is unbiased across a non-power-of-two bound', () => {
    const p = new Prng(3);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[p.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(() => p.int(0)).toThrow(InternalError);
  });

  it('fork() gives stable substreams independent of draws on the parent', () => {
    const a = new Prng(9);
    const f1 = a.fork('personas').nextU32();
    a.nextU32(); a.nextU32();
    expect(a.fork('personas').nextU32()).toBe(f1);
    expect(new Prng(9).fork('questions').nextU32()).not.toBe(f1);
    expect(deriveSeed(9, 'x')).toBe(deriveSeed(9, 'x'));
  });

  it('rejects bad weights and seeds', () => {
    const p = new Prng(4);
    expect(() => p.weighted([0, 0])).toThrow(/all weights are zero/);
    expect(() => p.weighted([1, -1])).toThrow(/bad weight/);
    expect(() => new Prng(1.5)).toThrow(InternalError);
    expect(p.weighted([0, 1, 0])).toBe(1);
  });
});
