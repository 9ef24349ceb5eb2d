import { createHash } from 'node:crypto';
import { InternalError } from './errors.js';

/**
 * Seeded pseudo-random numbers for everything that makes a result (Math.random is never used).
 *
 * Generator: xoshiro128** (Blackman & Vigna), 128-bit state, seeded through splitmix32 so that
 * nearby integer seeds give unrelated streams. Substreams (`fork(label)`) hash the parent seed and
 * a label with sha256, so adding a new random draw in one place never shifts another's stream.
 */
export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new InternalError(`Prng seed must be an integer, got ${seed}`);
    this.seed = seed >>> 0;
    let x = this.seed;
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform uint32. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0; this.s1 >>>= 0; this.s2 >>>= 0; this.s3 >>>= 0;
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) throw new InternalError(`Prng.int bound must be in 1..2^32, got ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const v = this.nextU32();
      if (v < limit) return v % n;
    }
  }

  /** Standard normal N(0, 1) by the Marsaglia polar method. */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    for (;;) {
      const u = 2 * this.next() - 1;
      const v = 2 * this.next() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        this.spareNormal = v * m;
        return u * m;
      }
    }
  }

  /** Picks one element uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new InternalError('Prng.pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** Index drawn with probability proportional to weights[i] (non-negative, not all zero). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0) || !Number.isFinite(w)) throw new InternalError(`Prng.weighted: bad weight ${w}`);
      total += w;
    }
    if (total <= 0) throw new InternalError('Prng.weighted: all weights are zero');
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  /** An independent substream named by `label`, reproducible from this generator's seed alone. */
  fork(label: string): Prng {
    return new Prng(deriveSeed(this.seed, label));
  }
}

/** A uint32 seed from a parent seed and a label (sha256, first 4 bytes big-endian). */
export function deriveSeed(parent: number | string, label: string): number {
  const h = createHash('sha256').update(`${parent}\u0000${label}`).digest();
  return h.readUInt32BE(0);
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
