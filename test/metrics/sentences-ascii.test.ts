import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.js';
import { asciiSentenceCount } from '../../src/metrics/sentences-ascii.js';
import { segmenterSentenceCount, sentenceCount } from '../../src/metrics/survey.js';

// Every ASCII sentence-break class (CR, LF, Sp, Lower, Upper, Numeric, ATerm, STerm, Close,
// SContinue, Other) and the sequences the rules SB6/SB7/SB8/SB8a/SB9-11 are about.
const PIECES = [
  'a', 'b', 'Z', 'Q', '1', '9', '.', '!', '?', '"', "'", '(', ')', '[', ']', '{', '}', ',', '-', ':', ';',
  ' ', ' ', '\t', '\v', '\f', '\r', '\n', '\r\n', '#', '*', 'e.g.', 'U.S.', 'Mr.', '3.14', 'word', 'Word', 'WORD',
  '...', '\x1c', '\x1f', '\x00', '~', '/',
];

describe('asciiSentenceCount (UAX #29 sentence rules on ASCII)', () => {
  it('equals Intl.Segmenter on random ASCII texts', () => {
    const rng = new Prng(29);
    for (let k = 0; k < 20000; k++) {
      const len = rng.int(k % 2 ? 12 : 50);
      let t = '';
      for (let j = 0; j < len; j++) t += PIECES[rng.int(PIECES.length)]!;
      expect(asciiSentenceCount(t), JSON.stringify(t)).toBe(segmenterSentenceCount(t));
    }
  });

  it('handles the rule examples and leaves non-ASCII text to the segmenter', () => {
    expect(asciiSentenceCount('')).toBe(0);
    expect(asciiSentenceCount('Hello there. How are you? Fine!')).toBe(3);
    expect(asciiSentenceCount('It costs 3.5 dollars. Mr. Smith agreed.')).toBe(segmenterSentenceCount('It costs 3.5 dollars. Mr. Smith agreed.'));
    expect(asciiSentenceCount('He said "stop." then left.')).toBe(1); // SB8: lowercase after the period
    expect(asciiSentenceCount('Café. Naïve.')).toBeUndefined();
    expect(sentenceCount('Café. Naïve.')).toBe(segmenterSentenceCount('Café. Naïve.'));
  });
});
