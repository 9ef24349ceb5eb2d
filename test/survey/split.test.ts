import { describe, expect, it } from 'vitest';
import { stratifiedSplit, type SplitItem } from '../../src/survey/split.js';
import { largestRemainder } from '../../src/survey/quotas.js';

const items: SplitItem[] = [];
for (let i = 0; i < 230; i++) items.push({ id: `r${i}`, stratum: `${['a', 'b', 'c'][i % 3]}|${i % 7 < 4 ? 'open' : 'likert'}`, group: `p${i % 37}` });

describe('stratifiedSplit', () => {
  it('gives exact split totals and every stratum within one item of its proportional share', () => {
    const m = stratifiedSplit(items, { train: 0.8, val: 0.1, test: 0.1 }, 3, false);
    expect(m.size).toBe(230);
    const strata = new Map<string, number[]>();
    for (const it of items) {
      const c = strata.get(it.stratum) ?? strata.set(it.stratum, [0, 0, 0]).get(it.stratum)!;
      c[['train', 'val', 'test'].indexOf(m.get(it.id)!)]!++;
    }
    const totals = [0, 0, 0];
    for (const c of strata.values()) {
      const n = c[0]! + c[1]! + c[2]!;
      [0.8, 0.1, 0.1].forEach((w, i) => {
        expect(Math.abs(c[i]! - w * n)).toBeLessThan(1);
        totals[i]! += c[i]!;
      });
    }
    expect(totals).toEqual(largestRemainder([0.8, 0.1, 0.1], 230));
  });
  it('does not starve val and test when every stratum is small (a smoke-sized run)', () => {
    // 40 cells of 3: rounding each cell alone would put all 120 items in train.
    const small: SplitItem[] = Array.from({ length: 120 }, (_, i) => ({ id: `s${i}`, stratum: `cell${i % 40}`, group: `p${i}` }));
    const counts = { train: 0, val: 0, test: 0 };
    for (const s of stratifiedSplit(small, { train: 0.8, val: 0.1, test: 0.1 }, 7, false).values()) counts[s]++;
    expect(counts).toEqual({ train: 96, val: 12, test: 12 });
  });
  it('honours other ratios and zero splits', () => {
    const m = stratifiedSplit(items, { train: 1, val: 0, test: 1 }, 3, false);
    expect([...m.values()].filter((s) => s === 'val')).toHaveLength(0);
    expect(Math.abs([...m.values()].filter((s) => s === 'test').length - 115)).toBeLessThanOrEqual(6);
  });
  it('is seeded', () => {
    const key = (seed: number) => JSON.stringify([...stratifiedSplit(items, { train: 0.8, val: 0.1, test: 0.1 }, seed, false)].sort());
    expect(key(1)).toBe(key(1));
    expect(key(1)).not.toBe(key(2));
  });
  it('keeps groups whole when persona-disjoint, with split sizes near the ratios', () => {
    const m = stratifiedSplit(items, { train: 0.8, val: 0.1, test: 0.1 }, 5, true);
    const splitOf = new Map<string, string>();
    for (const it of items) {
      const s = m.get(it.id)!;
      expect(splitOf.get(it.group) ?? s).toBe(s);
      splitOf.set(it.group, s);
    }
    const sizes = ['train', 'val', 'test'].map((s) => [...m.values()].filter((x) => x === s).length);
    expect(Math.abs(sizes[0]! - 184)).toBeLessThanOrEqual(7); // groups hold 6–7 items
    expect(sizes[1]).toBeGreaterThan(10);
    expect(sizes[2]).toBeGreaterThan(10);
  });
  it('rejects bad ratios', () => {
    expect(() => stratifiedSplit(items, { train: 0, val: 0, test: 0 }, 1, false)).toThrow(/not all zero/);
  });
});
