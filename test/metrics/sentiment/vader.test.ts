import { describe, expect, it } from 'vitest';
import { polarityScores, pyIsUpper, pyRound, wordsAndEmoticons } from '../../../src/metrics/sentiment/vader.js';

// The examples and compound scores printed in vaderSentiment's README (Python 3.3.2).
const README: Array<[string, number]> = [
  ['VADER is smart, handsome, and funny.', 0.8316],
  ['VADER is smart, handsome, and funny!', 0.8439],
  ['VADER is very smart, handsome, and funny.', 0.8545],
  ['VADER is VERY SMART, handsome, and FUNNY.', 0.9227],
  ['VADER is VERY SMART, handsome, and FUNNY!!!', 0.9342],
  ['VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!', 0.9469],
  ['VADER is not smart, handsome, nor funny.', -0.7424],
  ['The book was good.', 0.4404],
  ["At least it isn't a horrible book.", 0.431],
  ['The book was only kind of good.', 0.3832],
  ['The plot was good, but the characters are uncompelling and the dialog is not great.', -0.7042],
  ['Today SUX!', -0.5461],
  ["Today only kinda sux! But I'll get by, lol", 0.5249],
  ['Make sure you :) or :D today!', 0.8633],
  ['Not bad at all', 0.431],
];

describe('polarityScores (vaderSentiment 3.3.2 port)', () => {
  it.each(README)('%s -> %d', (text, compound) => {
    expect(polarityScores(text).compound).toBe(compound);
  });

  it('scores "The book was good." by hand: 1.9 / sqrt(1.9^2 + 15) = 0.4404; pos 2.9/5.9', () => {
    const s = polarityScores('The book was good.');
    expect(s.compound).toBe(pyRound(1.9 / Math.sqrt(1.9 * 1.9 + 15), 4));
    expect(s.pos).toBe(pyRound(2.9 / 5.9, 3));
    expect(s.neu).toBe(pyRound(3 / 5.9, 3));
  });

  it('is all zeros, not NaN, for empty and whitespace text', () => {
    expect(polarityScores('')).toEqual({ neg: 0, neu: 0, pos: 0, compound: 0 });
    expect(polarityScores(' \n\t ')).toEqual({ neg: 0, neu: 0, pos: 0, compound: 0 });
  });
});

describe('helpers with Python semantics', () => {
  it('strips edge punctuation unless that leaves 2 characters or fewer', () => {
    expect(wordsAndEmoticons('Hello, world! :) ok.')).toEqual(['Hello', 'world', ':)', 'ok.']);
  });
  it('pyIsUpper follows str.isupper', () => {
    expect(pyIsUpper('SUX!')).toBe(true);
    expect(pyIsUpper(':)')).toBe(false);
    expect(pyIsUpper('Good')).toBe(false);
    expect(pyIsUpper('ÉTÉ')).toBe(true);
  });
  it('pyRound rounds exact binary ties to even like Python round()', () => {
    expect(pyRound(0.03125, 4)).toBe(0.0312);
    expect(pyRound(-0.03125, 4)).toBe(-0.0312);
    expect(pyRound(0.09375, 4)).toBe(0.0938);
    expect(pyRound(0.12345678, 4)).toBe(0.1235);
    expect(pyRound(2.675, 2)).toBe(2.67); // the binary value is below the tie
  });
});

describe('fast paths (same results as the plain definitions)', () => {
  const regexIsUpper = (w: string): boolean => /[\p{Lu}\p{Ll}\p{Lt}]/u.test(w) && !/[\p{Ll}\p{Lt}]/u.test(w);
  it('pyIsUpper ASCII scan equals the Unicode-category definition', () => {
    const alphabet = ['A', 'Z', 'a', 'z', 'M', 'q', '1', '!', "'", '-', ' ', 'É', 'é', 'ǅ', 'Σ', 'ß', '日', '🙂'];
    let seed = 1;
    for (let k = 0; k < 3000; k++) {
      let w = '';
      const len = k % 7;
      for (let i = 0; i < len; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        w += alphabet[seed % alphabet.length];
      }
      expect(pyIsUpper(w)).toBe(regexIsUpper(w));
    }
  });
  it('compoundScore equals polarityScores().compound, repeated words (cached) included', async () => {
    const { compoundScore } = await import('../../../src/metrics/sentiment/vader.js');
    const texts = [
      '', '   ', 'VADER is smart, handsome, and funny!', 'The book was good, but the ending was HORRIBLE!!!',
      'Not bad at all', 'At least it is not the worst.', 'I kind of like it?? Really??', 'no  good\tNO GOOD :)',
      'This is the shit! bus stop; yeah right.', 'Never so happy, without doubt.', 'GREAT great GREAT',
    ];
    for (const t of [...texts, ...texts]) expect(compoundScore(t)).toBe(polarityScores(t).compound);
  });
});
