import { describe, expect, it } from 'vitest';
import { rougeLsumFromLines, rougeScores, rougeTokenize } from '../../src/metrics/rouge.js';

const near = (a: number, b: number): void => expect(Math.abs(a - b)).toBeLessThan(1e-12);

describe('rougeTokenize (rouge-score tokenize with the Porter stemmer)', () => {
  it('lowercases, maps non-[a-z0-9] to spaces and stems only tokens longer than 3 characters', () => {
    expect(rougeTokenize("The Cats' running-dogs, 2024! ides ties")).toEqual(['the', 'cat', 'run', 'dog', '2024', 'ide', 'tie']);
    expect(rougeTokenize('was this news?')).toEqual(['was', 'thi', 'news']);
    expect(rougeTokenize('café naïve')).toEqual(['caf', 'na', 've']);
    expect(rougeTokenize('Running', false)).toEqual(['running']);
  });
});

describe('rougeScores (rouge-score RougeScorer, use_stemmer=True)', () => {
  it("rouge-score's documented example: score('testing one two', 'testing') -> P 1, R 1/3, F 1/2", () => {
    const s = rougeScores('testing one two', 'testing');
    near(s.rouge1.precision, 1);
    near(s.rouge1.recall, 1 / 3);
    near(s.rouge1.fmeasure, 1 / 2);
    near(s.rougeL.fmeasure, 1 / 2);
  });

  it('rouge2 and rougeL by hand', () => {
    // target bigrams: the-cat cat-sat sat-on on-the the-mat; prediction: the-cat cat-is is-on on-the the-mat
    const s = rougeScores('the cat sat on the mat', 'the cat is on the mat');
    near(s.rouge2.precision, 3 / 5);
    near(s.rouge2.recall, 3 / 5);
    // LCS = the cat on the mat = 5 of 6
    near(s.rougeL.fmeasure, 5 / 6);
    near(s.rouge1.fmeasure, 5 / 6);
  });

  it("rouge-score's rougeLsum test: union LCS gives R 0.8, P 0.4", () => {
    const s = rougeScores('w1 w2 w3 w4 w5', 'w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5');
    near(s.rougeLsum.recall, 0.8);
    near(s.rougeLsum.precision, 0.4);
    near(s.rougeLsum.fmeasure, (2 * 0.8 * 0.4) / 1.2);
  });

  it('counts each union-LCS token once (token counts are consumed)', () => {
    // both target lines want 'a', but the prediction has only one 'a'
    const s = rougeLsumFromLines([['a'], ['a']], [['a']]);
    near(s.recall, 1 / 2);
    near(s.precision, 1);
  });

  it('gives zeros, never NaN, for empty and punctuation-only texts', () => {
    for (const [t, p] of [['', ''], ['', 'x'], ['x', ''], ['!!!', '???'], ['\n\n', 'a\n']] as const) {
      const s = rougeScores(t, p);
      for (const v of Object.values(s)) {
        expect(v.fmeasure).toBe(0);
        expect(Number.isNaN(v.precision)).toBe(false);
      }
    }
  });

  it('rouge2 of one-token texts is 0 (no bigrams), not NaN', () => {
    const s = rougeScores('hello', 'hello');
    expect(s.rouge2.fmeasure).toBe(0);
    expect(s.rouge1.fmeasure).toBe(1);
  });

  it('handles long texts', () => {
    const words = Array.from({ length: 3000 }, (_, i) => `w${i % 101}`).join(' ');
    const s = rougeScores(words, words);
    expect(s.rougeL.fmeasure).toBe(1);
    expect(s.rougeLsum.fmeasure).toBe(1);
  });
});
