import { describe, expect, it } from 'vitest';
import { compareDistributions, jensenShannon, varianceRatio, wasserstein1 } from '../../src/metrics/distribution.js';

describe('distribution fidelity', () => {
  it('W1 on an ordinal scale by hand', () => {
    // all mass at 1 vs all at 5: 4 scale points apart
    expect(wasserstein1([1, 0, 0, 0, 0], [0, 0, 0, 0, 1])).toBe(4);
    // half a unit of mass moved one step
    expect(wasserstein1([2, 0], [1, 1])).toBe(0.5);
    expect(wasserstein1([3, 1, 0], [3, 1, 0])).toBe(0);
  });
  it('JSD in bits: 1 for disjoint, 0 for equal, a hand value in between', () => {
    expect(jensenShannon([1, 0], [0, 1])).toBe(1);
    expect(jensenShannon([1, 1], [2, 2])).toBe(0);
    // p = (1, 0), q = (1/2, 1/2), m = (3/4, 1/4)
    const expected = 0.5 * Math.log2(1 / 0.75) + 0.5 * (0.5 * Math.log2(0.5 / 0.75) + 0.5 * Math.log2(0.5 / 0.25));
    expect(Math.abs(jensenShannon([2, 0], [1, 1]) - expected)).toBeLessThan(1e-15);
  });
  it('variance ratio shows regression to the mean', () => {
    // pred all 3s (var 0) vs ref 1 and 5 (var 4)
    expect(varianceRatio([0, 0, 2, 0, 0], [1, 0, 0, 0, 1])).toBe(0);
    expect(varianceRatio([0, 1, 0, 1, 0], [1, 0, 0, 0, 1])).toBe(0.25);
    expect(varianceRatio([0, 2, 0], [0, 3, 0])).toBe(1);
    expect(varianceRatio([1, 0, 1], [0, 3, 0])).toBeNull();
  });
  it('compareDistributions gives nulls, not NaN, when a side is empty', () => {
    const d = compareDistributions([], [1, 2], 5);
    expect(d).toMatchObject({ n_pred: 0, n_ref: 2, wasserstein: null, jsd: null, variance_ratio: null });
    const e = compareDistributions([1, 2, 2], [2, 2, 3], 3);
    expect(e.pred_hist).toEqual([1, 2, 0]);
    expect(e.wasserstein).toBeCloseTo(2 / 3, 15);
  });
});
