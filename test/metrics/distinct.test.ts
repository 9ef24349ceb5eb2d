import { describe, expect, it } from 'vitest';
import { distinctN, recordDistinctN } from '../../src/metrics/distinct.js';

describe('distinctN', () => {
  it('is unique n-grams over all predictions / total n-grams', () => {
    // unigrams: a b a | a c -> 5 total, {a, b, c} -> 3/5
    expect(distinctN(['a b a', 'a c'], 1)).toBe(3 / 5);
    // bigrams: a-b b-a | a-c -> 3 total, 3 unique
    expect(distinctN(['a b a', 'a c'], 2)).toBe(1);
    expect(distinctN(['x y', 'x y'], 2)).toBe(1 / 2);
  });
  it('keeps case, splits on Python whitespace, and is 0 without n-grams', () => {
    expect(distinctN(['A a\u3000a'], 1)).toBe(2 / 3);
    expect(distinctN([], 1)).toBe(0);
    expect(distinctN(['', 'one'], 2)).toBe(0);
    expect(recordDistinctN('one two one', 1)).toBe(2 / 3);
  });
});
