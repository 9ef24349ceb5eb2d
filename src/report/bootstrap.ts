import { Prng } from '../core/prng.js';
import { InternalError } from '../core/errors.js';

/**
 * Paired bootstrap of a difference of means (Efron & Tibshirani 1993, §16; the paired design of
 * Koehn 2004 for MT metrics): the same n units (test records, or questions for distribution
 * metrics) were scored under both systems, so the units are resampled with replacement, n at a
 * time, and the mean of the per-unit differences (finetuned − base) is recomputed each time. The
 * interval is the percentile interval of those B means, quantiles by linear interpolation
 * (numpy's default). Seeded: the same pairs, samples and seed give the same interval.
 */
export interface PairedDifference {
  base: number;
  finetuned: number;
  /** finetuned − base, the mean over the n pairs */
  delta: number;
  ci_low: number;
  ci_high: number;
  n: number;
}

export interface BootstrapOptions {
  /** resamples B (default 2,000) */
  samples?: number;
  /** central coverage of the interval (default 0.95) */
  confidence?: number;
  seed: number;
}

/** Quantile p of sorted values by linear interpolation (numpy.percentile's default). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Paired bootstrap over aligned arrays (base[i] and finetuned[i] score the same unit). n = 0 gives nulls. */
export function pairedBootstrap(base: readonly number[], finetuned: readonly number[], options: BootstrapOptions): PairedDifference | null {
  if (base.length !== finetuned.length) throw new InternalError(`pairedBootstrap: ${base.length} base values but ${finetuned.length} fine-tuned`);
  const n = base.length;
  if (n === 0) return null;
  const samples = options.samples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  const diff = new Float64Array(n);
  let sumB = 0, sumF = 0;
  for (let i = 0; i < n; i++) {
    diff[i] = finetuned[i]! - base[i]!;
    sumB += base[i]!;
    sumF += finetuned[i]!;
  }
  const prng = new Prng(options.seed);
  const means = new Float64Array(samples);
  for (let b = 0; b < samples; b++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += diff[prng.int(n)]!;
    means[b] = s / n;
  }
  means.sort();
  const alpha = (1 - confidence) / 2;
  return { base: sumB / n, finetuned: sumF / n, delta: (sumF - sumB) / n, ci_low: quantileSorted(means, alpha), ci_high: quantileSorted(means, 1 - alpha), n };
}
