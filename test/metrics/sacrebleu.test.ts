import { describe, expect, it } from 'vitest';
import { computeBleu, corpusBleu, tokenize13a } from '../../src/metrics/sacrebleu.js';
import { InternalError } from '../../src/core/errors.js';

describe('tokenize13a (sacrebleu Tokenizer13a)', () => {
  it('splits punctuation, keeps numbers with . and , together, splits a dash after a digit', () => {
    expect(tokenize13a('Hello, world.')).toEqual(['Hello', ',', 'world', '.']);
    expect(tokenize13a('It costs 3.14 or 1,000 (approx.)')).toEqual(['It', 'costs', '3.14', 'or', '1,000', '(', 'approx', '.', ')']);
    expect(tokenize13a('pages 2-3 of well-known')).toEqual(['pages', '2', '-', '3', 'of', 'well-known']);
    // the apostrophe (0x27) is not in 13a's punctuation ranges
    expect(tokenize13a("don't &amp; &quot;quote&quot;")).toEqual(["don't", '&', '"', 'quote', '"']);
    expect(tokenize13a('line one-\ncontinued\nnext  ')).toEqual(['line', 'onecontinued', 'next']);
    expect(tokenize13a('<skipped>')).toEqual([]);
  });
});

describe('corpusBleu (sacrebleu corpus_bleu defaults)', () => {
  it('matches a hand derivation with exp smoothing: (5/6 * 3/5 * 1/4 * 1/(2*3))^(1/4)', () => {
    const r = corpusBleu(['the cat sat on the mat'], ['the cat is on the mat']);
    expect(r.correct).toEqual([5, 3, 1, 0]);
    expect(r.total).toEqual([6, 5, 4, 3]);
    expect(Math.abs(r.score - Math.pow(48, -0.25))).toBeLessThan(1e-12);
  });

  it("reproduces sacrebleu's README example (BLEU 48.53 with two reference streams)", () => {
    const sys = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
    const refs1 = ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'];
    const refs2 = ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'];
    const r = corpusBleu(sys, refs1, refs2);
    expect(r.score * 100).toBeCloseTo(48.53, 2);
  });

  it('is 0 when nothing matches or everything is empty, and when a higher order has no n-grams', () => {
    expect(corpusBleu(['a b'], ['c d']).score).toBe(0);
    expect(corpusBleu([''], ['']).score).toBe(0);
    // two tokens: total[2] = 0 -> precision stays 0 -> log(0) sentinel -> 0 (sacrebleu, effective_order off)
    expect(corpusBleu(['a b'], ['a b']).score).toBe(0);
    expect(computeBleu([0, 0, 0, 0], [1, 0, 0, 0], 1, 1).score).toBe(0);
  });

  it('applies the brevity penalty on corpus lengths', () => {
    const r = corpusBleu(['a b c d'], ['a b c d e f g h']);
    expect(r.bp).toBe(Math.exp(1 - 8 / 4));
    expect(Math.abs(r.score - Math.exp(-1))).toBeLessThan(1e-12);
  });

  it('rejects misaligned inputs', () => {
    expect(() => corpusBleu(['a'], ['a', 'b'])).toThrow(InternalError);
  });
});
