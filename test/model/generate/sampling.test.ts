import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import { argmax, checkSampling, sampleToken } from '../../../src/model/generate/sampling.js';

const logits = Float32Array.from([1.0, 3.0, 2.0, 0.5, 2.9]);

function frequencies(opts: Parameters<typeof sampleToken>[1], n = 20000, seed = 1): number[] {
  const prng = new Prng(seed);
  const counts = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[sampleToken(logits, opts, prng)]++;
  return counts.map((c) => c / n);
}

function softmax(xs: number[], t: number): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp((x - m) / t));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe('sampling', () => {
  it('greedy picks the argmax, lowest index on ties', () => {
    expect(argmax([1, 5, 5, 2])).toBe(1);
    expect(sampleToken(logits, { doSample: false, temperature: 0.7, topK: 0, topP: 1 }, new Prng(1))).toBe(1);
    expect(sampleToken(logits, { doSample: true, temperature: 0, topK: 0, topP: 1 }, new Prng(1))).toBe(1);
  });

  it('temperature sampling follows softmax(logits / T)', () => {
    const f = frequencies({ doSample: true, temperature: 0.8, topK: 0, topP: 1 });
    const p = softmax(Array.from(logits), 0.8);
    f.forEach((v, i) => expect(Math.abs(v - p[i]!)).toBeLessThan(0.015));
  });

  it('top_k keeps only the k most likely tokens, renormalised', () => {
    const f = frequencies({ doSample: true, temperature: 1, topK: 2, topP: 1 });
    const p = softmax([3.0, 2.9], 1);
    expect(f[0]).toBe(0);
    expect(f[2]).toBe(0);
    expect(Math.abs(f[1]! - p[0]!)).toBeLessThan(0.015);
    expect(Math.abs(f[4]! - p[1]!)).toBeLessThan(0.015);
  });

  it('top_p keeps the smallest prefix reaching p', () => {
    const p = softmax(Array.from(logits), 1); // order: 1 (3.0), 4 (2.9), 2 (2.0), 0, 3
    const cutoff = p[1]! + p[4]! + 0.01; // needs a third token
    const f = frequencies({ doSample: true, temperature: 1, topK: 0, topP: cutoff });
    expect(f[0]).toBe(0);
    expect(f[3]).toBe(0);
    expect(f[2]).toBeGreaterThan(0);
    const z = p[1]! + p[4]! + p[2]!;
    expect(Math.abs(f[1]! - p[1]! / z)).toBeLessThan(0.015);
  });

  it('same seed, same draws', () => {
    const opts = { doSample: true, temperature: 1.2, topK: 0, topP: 0.95 };
    const a = new Prng(9), b = new Prng(9);
    const xs = Array.from({ length: 50 }, () => sampleToken(logits, opts, a));
    const ys = Array.from({ length: 50 }, () => sampleToken(logits, opts, b));
    expect(xs).toEqual(ys);
  });

  it('survives float noise: logits off by 1e-5 give the same draws on a flat distribution', () => {
    // A random tiny model's next-token distribution is nearly flat: hundreds of near-tied tokens,
    // which swap places in a probability-sorted list at the slightest perturbation.
    const noise = new Prng(3);
    const flat = Float32Array.from({ length: 512 }, () => 0.05 * noise.normal());
    const jittered = flat.map((x) => x + 1e-5 * (noise.next() - 0.5));
    for (const opts of [{ doSample: true, temperature: 0.7, topK: 0, topP: 0.9 }, { doSample: true, temperature: 1, topK: 0, topP: 1 }, { doSample: true, temperature: 0.7, topK: 50, topP: 1 }]) {
      const a = new Prng(5), b = new Prng(5);
      let changed = 0;
      for (let i = 0; i < 2000; i++) if (sampleToken(flat, opts, a) !== sampleToken(jittered, opts, b)) changed++;
      expect(changed, JSON.stringify(opts)).toBeLessThanOrEqual(2); // an inverse-CDF draw over the probability-sorted list changed 23 of 2000 (top_p 0.9)
    }
  });

  it('rejects bad settings', () => {
    expect(() => checkSampling({ doSample: true, temperature: -1, topK: 0, topP: 1 })).toThrow(/temperature/);
    expect(() => checkSampling({ doSample: true, temperature: 1, topK: 0, topP: 0 })).toThrow(/top_p/);
    expect(() => checkSampling({ doSample: true, temperature: 1, topK: 1.5, topP: 1 })).toThrow(/top_k/);
  });
});
