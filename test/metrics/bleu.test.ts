import { describe, expect, it } from 'vitest';
import { bleu, brevityPenalty, closestRefLength, sentenceBleu } from '../../src/metrics/bleu.js';

const TOL = 1e-12;

describe('sentenceBleu (NLTK sentence_bleu, method1)', () => {
  it('matches a hand derivation: p = 5/6, 3/5, 1/4, and method1 0.1/3 for the empty 4-gram match', () => {
    // p1..p4 product = 5/6 * 3/5 * 1/4 * 0.1/3 = 1/240; equal lengths give BP = exp(0) = 1
    const got = bleu('the cat sat on the mat', 'the cat is on the mat');
    expect(got).toBeCloseTo(Math.pow(240, -0.25), 12);
    expect(Math.abs(got - Math.pow(240, -0.25))).toBeLessThan(TOL);
  });

  it('handles a hypothesis shorter than n: 0.1/1 for the missing orders and the brevity penalty', () => {
    // p1 = p2 = 1, p3 = p4 = 0.1 / max(1, 0); BP = exp(1 - 6/2)
    const expected = Math.exp(-2) * Math.sqrt(0.1);
    expect(Math.abs(bleu('The CAT', 'the cat sat on the mat') - expected)).toBeLessThan(TOL);
  });

  it('reproduces the NLTK docstring example (0.5045...) with p1 = 17/18, p2 = 10/17', () => {
    const hyp = 'It is a guide to action which ensures that the military always obeys the commands of the party'.split(' ');
    const r1 = 'It is a guide to action that ensures that the military will forever heed Party commands'.split(' ');
    const r2 = 'It is the guiding principle which guarantees the military forces always being under the command of the Party'.split(' ');
    const r3 = 'It is the practical guide for the army always to heed the directions of the party'.split(' ');
    const got = sentenceBleu([r1, r2, r3], hyp);
    expect(got).toBeGreaterThan(0.5045);
    expect(got).toBeLessThan(0.5046);
  });

  it('picks the closest reference length, the shorter on a tie', () => {
    expect(closestRefLength([4, 6], 5)).toBe(4);
    expect(closestRefLength([6, 4], 5)).toBe(4);
    expect(closestRefLength([3, 9], 8)).toBe(9);
    // hyp length 5 > closest 4 -> BP 1, and every n-gram matches reference 2
    expect(sentenceBleu(['a b c d'.split(' '), 'a b c d e f'.split(' ')], 'a b c d e'.split(' '))).toBe(1);
  });

  it('brevity penalty follows NLTK', () => {
    expect(brevityPenalty(5, 6)).toBe(1);
    expect(brevityPenalty(5, 0)).toBe(0);
    expect(brevityPenalty(6, 3)).toBe(Math.exp(-1));
  });

  it('is 0, never NaN, for empty texts and no unigram match', () => {
    expect(bleu('', 'a reference')).toBe(0);
    expect(bleu('a prediction', '')).toBe(0);
    expect(bleu('', '')).toBe(0);
    expect(bleu('x y z', 'a b c')).toBe(0);
  });

  it('tokenises like Python lower().split(): unicode whitespace yes, zero-width space and BOM no', () => {
    // a\u3000b is two tokens (ideographic space is whitespace), so it equals 'a b'
    expect(bleu('a\u3000b\u2003c\x1cd', 'a b c d')).toBe(1);
    expect(bleu('a\u200bb c d e', 'a\u200bb c d e')).toBe(1);
    expect(bleu('a\u200bb c d e', 'a b c d e')).toBeLessThan(1);
    expect(bleu('a\ufeffb c d e', 'a b c d e')).toBeLessThan(1);
  });

  it('handles non-ASCII and very long texts with a finite value', () => {
    expect(bleu('Ça va très bien, merci', 'ÇA VA TRÈS BIEN, MERCI')).toBe(1);
    const words = Array.from({ length: 20000 }, (_, i) => `w${i % 997}`);
    const v = bleu(words.join(' '), words.slice(0, 19000).join(' '));
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThan(0.9);
  });
});
