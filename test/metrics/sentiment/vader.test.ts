import { describe, expect, it } from 'vitest';
import { compoundScore, polarityScores, pyIsUpper, pyRound, translateEmoji, vaderLexicon, vaderWord, wordsAndEmoticons } from '../../../src/metrics/sentiment/vader.js';
import { pySplit } from '../../../src/metrics/python-text.js';

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

// Emoji: polarity_scores of vaderSentiment 3.3.2 (github.com/cjhutto/vaderSentiment at 0150f59,
// the release's code and lexicons; later commits change no score of a str), run on these texts.
const EMOJI: Array<{ text: string; neg: number; neu: number; pos: number; compound: number }> = [
  { text: 'Catch utf-8 emoji such as 💘 and 💋 and 😁', neg: 0.0, neu: 0.583, pos: 0.417, compound: 0.875 },
  { text: 'I love it😀!!', neg: 0.0, neu: 0.292, pos: 0.708, compound: 0.8065 },
  { text: '😀good', neg: 0.0, neu: 0.286, pos: 0.714, compound: 0.3612 },
  { text: 'good😀', neg: 0.0, neu: 0.156, pos: 0.844, compound: 0.6597 },
  { text: '😀😀 great', neg: 0.0, neu: 0.18, pos: 0.82, compound: 0.8442 },
  { text: 'The service was awful 😡 but the food 👍🏽 was fine', neg: 0.11, neu: 0.769, pos: 0.121, compound: 0.0516 },
  { text: 'Heart ❤️ and broken 💔 heart', neg: 0.489, neu: 0.135, pos: 0.377, compound: -0.3612 },
  { text: 'Not bad 😐 at all', neg: 0.0, neu: 0.637, pos: 0.363, compound: 0.431 },
  { text: 'Family 👨‍👩‍👧 time is the best', neg: 0.0, neu: 0.625, pos: 0.375, compound: 0.6369 },
  { text: 'We went ON 🔛 and UP 🆙', neg: 0.0, neu: 1.0, pos: 0.0, compound: 0.0 },
  { text: 'line one\n😢 sad ending', neg: 0.608, neu: 0.392, pos: 0.0, compound: -0.7351 },
  { text: '\t😂\t', neg: 0.218, neu: 0.345, pos: 0.437, compound: 0.4404 },
  { text: 'café ☕ morning, naïve but nice', neg: 0.0, neu: 0.619, pos: 0.381, compound: 0.5719 },
  { text: '🙂', neg: 0.0, neu: 0.425, pos: 0.575, compound: 0.4033 },
  { text: 'Thumbs 👎👎 DOWN!', neg: 0.0, neu: 1.0, pos: 0.0, compound: 0.0 },
];

describe('emoji (translated to their descriptions, as vaderSentiment 3.3.2)', () => {
  it.each(EMOJI)('$text', ({ text, ...scores }) => {
    expect(polarityScores(text)).toEqual(scores);
    expect(compoundScore(text)).toBe(scores.compound);
    // a tokenisation shared with other metrics is of the raw text; the emoji path must not use it
    expect(compoundScore(text, pySplit(text).map((t) => vaderWord(t)))).toBe(scores.compound);
  });

  it("reproduces the README's published emoji example with the lexicon it was printed with", () => {
    // README: "Catch utf-8 emoji such as 💘 and 💋 and 😁 ... {'pos': 0.279, 'compound': 0.7003, 'neu': 0.721, 'neg': 0.0}",
    // printed before "heart" and "hearts" joined the lexicon (upstream commit 0b8040f, shipped in 3.3.2).
    const before = new Map(vaderLexicon());
    before.delete('heart');
    before.delete('hearts');
    expect(polarityScores('Catch utf-8 emoji such as 💘 and 💋 and 😁', { lexicon: before })).toEqual({ neg: 0.0, neu: 0.721, pos: 0.279, compound: 0.7003 });
  });

  it('translates code point by code point, a space before (not after) each description', () => {
    expect(translateEmoji('😀good')).toBe('grinning facegood');
    expect(translateEmoji('good😀')).toBe('good grinning face');
    expect(translateEmoji('a 😀')).toBe('a grinning face');
    expect(translateEmoji('a\n😀')).toBe('a\n grinning face'); // only ' ' counts as a space
    expect(translateEmoji('plain ASCII :)')).toBe('plain ASCII :)');
  });

  it('ships the release lexicon: heart, hearts, flawed and badass as upstream', () => {
    expect(vaderLexicon().get('heart')).toBe(3.2);
    expect(vaderLexicon().get('hearts')).toBe(3.3);
    expect(vaderLexicon().get('flawed')).toBe(-2.1);
    expect(vaderLexicon().get('badass')).toBe(1.4);
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
