import { describe, expect, it } from 'vitest';
import { stratifiedSplit, type SplitItem } from '../../src/survey/split.js';
import { largestRemainder } from '../../src/survey/quotas.js';

const items: SplitItem[] = [];
for (let i = 0; i < 230; i++) items.push({ id: `r${i}`, stratum: `${['a', 'b', 'c'][i % 3]}|${i % 7 < 4 ? 'open' : 'likert'}`, group: `p${i % 37}` });

describe('stratifiedSplit', () => {
  it('cuts every stratum by largest remainder of the ratios', () => {
    const m = stratifiedSplit(items, { train: 0.8, val: 0.1, test: 0.1 }, 3, false);
    expect(m.size).toBe(230);
    const strata = new Map<string, number[]>();
    for (const it of items) {
      const c = strata.get(it.stratum) ?? strata.set(it.stratum, [0, 0, 0]).get(it.stratum)!;
      c[['train', 'val', 'test'].indexOf(m.get(it.id)!)]!++;
    }
    for (const c of strata.values()) expect(c).toEqual(largestRemainder([0.8, 0.1, 0.1], c[0]! + c[1]! + c[2]!));
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
