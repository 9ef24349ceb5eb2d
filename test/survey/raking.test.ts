import { describe, expect, it } from 'vitest';
import { marginalError, rake } from '../../src/survey/raking.js';

describe('rake (iterative proportional fitting)', () => {
  it('converges on a 2×2 table to the closed-form solution', () => {
    // Sample cells (a,x)=40 (a,y)=10 (b,x)=20 (b,y)=30; targets a/b = .5/.5, x/y = .4/.6.
    // IPF on a 2×2 converges to w_ij = r_i c_j t_ij with a single odds-ratio-preserving fit;
    // check margins and that the odds ratio of the weighted table equals the sample's (40·30)/(10·20) = 6.
    const rows: Array<Record<string, string>> = [];
    const add = (g: string, h: string, n: number) => { for (let i = 0; i < n; i++) rows.push({ g, h }); };
    add('a', 'x', 40); add('a', 'y', 10); add('b', 'x', 20); add('b', 'y', 30);
    const targets = { g: { a: 0.5, b: 0.5 }, h: { x: 0.4, y: 0.6 } };
    const r = rake(rows, targets, { tolerance: 1e-12, maxIterations: 1000 });
    expect(r.converged).toBe(true);
    expect(r.maxError).toBeLessThan(1e-12);
    expect(marginalError(rows, r.weights, targets)).toBeLessThan(1e-12);
    const cell = (g: string, h: string) => rows.reduce((s, row, i) => s + (row.g === g && row.h === h ? r.weights[i]! : 0), 0);
    const odds = (cell('a', 'x') * cell('b', 'y')) / (cell('a', 'y') * cell('b', 'x'));
    expect(odds).toBeCloseTo(6, 8);
    expect(r.weights.reduce((a, b) => a + b, 0) / rows.length).toBeCloseTo(1, 12);
  });

  it('reduces the marginal error monotonically over sweeps on a 3-variable table', () => {
    const rows: Array<Record<string, string>> = [];
    const cats = ['p', 'q', 'r'];
    for (let i = 0; i < 300; i++) rows.push({ u: cats[i % 3]!, v: cats[(i * 7) % 3 === 0 ? 0 : (i % 5) % 3]!, w: i % 4 === 0 ? 'yes' : 'no' });
    const targets = { u: { p: 0.2, q: 0.3, r: 0.5 }, v: { p: 0.6, q: 0.25, r: 0.15 }, w: { yes: 0.5, no: 0.5 } };
    let previous = Infinity;
    for (const it of [1, 2, 4, 8, 16, 64]) {
      const r = rake(rows, targets, { maxIterations: it, tolerance: 0 });
      expect(r.maxError).toBeLessThanOrEqual(previous + 1e-15);
      previous = r.maxError;
    }
    expect(rake(rows, targets, { tolerance: 1e-9, maxIterations: 2000 }).converged).toBe(true);
  });

  it('rejects targets it cannot meet', () => {
    const rows = [{ g: 'a' }, { g: 'a' }];
    expect(() => rake(rows, { g: { a: 0.5, b: 0.5 } })).toThrow(/"g=b" has share 0.5 but no sampled unit/);
    expect(() => rake(rows, { g: { a: 0.7 } })).toThrow(/summing to 1/);
    expect(() => rake([{ g: 'c' }], { g: { a: 1 } })).toThrow(/targets for "g" do not list/);
  });
});
