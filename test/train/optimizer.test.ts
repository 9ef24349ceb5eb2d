import { Prng } from '../../src/core/prng.js';
import { describe, expect, it } from 'vitest';
import { adamWMoments, adamWUpdate, clipAndUpdate, clipGradients, globalNorm, learningRate, scaleAndNorm, warmupSteps } from '../../src/train/optimizer.js';
import { fillKeepMask, dropoutMasks } from '../../src/train/dropout.js';

describe('AdamW', () => {
  it('the fused passes (scaleAndNorm, clipAndUpdate) give the separate ones\' results bit for bit', () => {
    const prng = new Prng(4);
    const cfg = { adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8, weight_decay: 0.1 };
    const rand = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (prng.next() - 0.5) * s);
    for (const maxNorm of [0, 0.05, 1e9]) {
      const sizes = [37, 5, 130];
      const params = sizes.map((n) => rand(n, 2)), grads = sizes.map((n) => rand(n, 40));
      const decay = [true, false, true];
      const ref = { params: params.map((p) => p.slice()), grads: grads.map((g) => g.slice()), moments: sizes.map(adamWMoments) };
      const fused = { params: params.map((p) => p.slice()), grads: grads.map((g) => g.slice()), moments: sizes.map(adamWMoments) };
      for (let t = 1; t <= 3; t++) {
        // The separate passes, as the trainer ran them.
        for (const g of ref.grads) for (let i = 0; i < g.length; i++) g[i] = g[i]! / 7;
        const norm = globalNorm(ref.grads);
        clipGradients(ref.grads, norm, maxNorm);
        ref.params.forEach((p, i) => adamWUpdate(p, ref.grads[i]!, ref.moments[i]!, t, 0.01, decay[i] ? cfg : { ...cfg, weight_decay: 0 }));
        const fusedNorm = scaleAndNorm(fused.grads, 7);
        expect(fusedNorm).toBe(norm);
        clipAndUpdate(fused.params, fused.grads, fused.moments, decay, fusedNorm, maxNorm, t, 0.01, cfg);
        for (let i = 0; i < sizes.length; i++) {
          expect(Array.from(fused.params[i]!)).toEqual(Array.from(ref.params[i]!));
          expect(Array.from(fused.moments[i]!.v)).toEqual(Array.from(ref.moments[i]!.v));
          expect(Array.from(fused.grads[i]!)).toEqual(Array.from(ref.grads[i]!));
        }
        ref.grads.forEach((g, i) => { const x = rand(g.length, 40); g.set(x); fused.grads[i]!.set(x); });
      }
    }
  });


  it('matches torch.optim.AdamW worked by hand for two steps', () => {
    const p = Float32Array.of(1, -2);
    const st = adamWMoments(2);
    const cfg = { adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8, weight_decay: 0.01 };
    adamWUpdate(p, Float32Array.of(0.5, -0.25), st, 1, 0.1, cfg);
    // step 1: m̂ = g, v̂ = g² ⇒ p ← p(1 − lr·wd) − lr·sign(g)
    expect(p[0]).toBeCloseTo(1 * (1 - 0.001) - 0.1, 6);
    expect(p[1]).toBeCloseTo(-2 * (1 - 0.001) + 0.1, 6);
    adamWUpdate(p, Float32Array.of(0.1, 0), st, 2, 0.05, cfg);
    const m = 0.9 * 0.05 + 0.1 * 0.1, v = 0.999 * 0.00025 + 0.001 * 0.01;
    const expected0 = (1 * 0.999 - 0.1) * (1 - 0.05 * 0.01) - (0.05 * (m / (1 - 0.81))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
    expect(p[0]).toBeCloseTo(expected0, 6);
  });

  it('clips by global norm as clip_grad_norm_ does', () => {
    const g = [Float32Array.of(3), Float32Array.of(4)];
    const n = globalNorm(g);
    expect(n).toBe(5);
    clipGradients(g, n, 1);
    expect(g[0]![0]).toBeCloseTo(3 / (5 + 1e-6), 6);
    expect(g[1]![0]).toBeCloseTo(4 / (5 + 1e-6), 6);
    const small = [Float32Array.of(0.1)];
    clipGradients(small, 0.1, 1);
    expect(small[0]![0]).toBeCloseTo(0.1, 7);
  });
});

describe('learning-rate schedules (transformers get_*_schedule_with_warmup)', () => {
  it('warms up linearly, then follows the cosine to 0', () => {
    const total = 100, warm = warmupSteps(total, 0.03);
    expect(warm).toBe(3);
    expect(learningRate('cosine', 2e-4, 0, total, warm)).toBe(0);
    expect(learningRate('cosine', 2e-4, 1, total, warm)).toBeCloseTo(2e-4 / 3, 12);
    expect(learningRate('cosine', 2e-4, 3, total, warm)).toBeCloseTo(2e-4, 12);
    expect(learningRate('cosine', 2e-4, 3 + 97 / 2, total, warm)).toBeCloseTo(1e-4, 12);
    expect(learningRate('linear', 2e-4, 3 + 97 / 2, total, warm)).toBeCloseTo(1e-4, 12);
    expect(learningRate('constant', 2e-4, 0, total, warm)).toBe(2e-4);
  });
});

describe('LoRA dropout masks', () => {
  it('drop close to p, and are a function of (seed, step, micro-batch, site)', () => {
    const m = new Uint8Array(200_000);
    fillKeepMask(m, 0.05, 1);
    const dropped = m.length - m.reduce((a, b) => a + b, 0);
    expect(Math.abs(dropped / m.length - 0.05)).toBeLessThan(0.003);
    const a = dropoutMasks([64, 32], 10, 0.3, 7, 4, 1), b = dropoutMasks([64, 32], 10, 0.3, 7, 4, 1), c = dropoutMasks([64, 32], 10, 0.3, 7, 5, 1);
    expect(Buffer.from(a[1]!).equals(Buffer.from(b[1]!))).toBe(true);
    expect(Buffer.from(a[1]!).equals(Buffer.from(c[1]!))).toBe(false);
  });

  it('are the byte-by-byte xoshiro128** draws (word stores change nothing), at any length and offset', () => {
    // Reference: one 16-bit uniform per byte, two per generator output, in order.
    const reference = (n: number, p: number, seed: number): Uint8Array => {
      const prng = new Prng(seed);
      const state = [prng.nextU32() | 0, prng.nextU32() | 0, prng.nextU32() | 0, prng.nextU32() | 0];
      const out = new Uint8Array(n);
      const threshold = Math.round(p * 65536);
      for (let i = 0; i < n; i += 2) {
        let [s0, s1, s2, s3] = state as [number, number, number, number];
        const m5 = Math.imul(s1, 5);
        const r = Math.imul((m5 << 7) | (m5 >>> 25), 9) >>> 0;
        const t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
        state.splice(0, 4, s0, s1, s2, s3);
        out[i] = (r & 0xffff) < threshold ? 0 : 1;
        if (i + 1 < n) out[i + 1] = r >>> 16 < threshold ? 0 : 1;
      }
      return out;
    };
    for (const n of [1, 7, 64, 1001]) {
      const m = new Uint8Array(n);
      fillKeepMask(m, 0.3, 11);
      expect(Array.from(m)).toEqual(Array.from(reference(n, 0.3, 11)));
      const unaligned = new Uint8Array(n + 3).subarray(3); // byteOffset 3: the byte path
      fillKeepMask(unaligned, 0.3, 11);
      expect(Array.from(unaligned)).toEqual(Array.from(reference(n, 0.3, 11)));
    }
  });
});
