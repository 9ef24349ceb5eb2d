import { describe, expect, it } from 'vitest';
import { answerAgreement, countSimilarity, lengthSimilarity, quality, sentenceCount, sentenceSimilarity, sentimentSimilarity } from '../../src/metrics/survey.js';

describe('count similarities', () => {
  it('1 - |a-b|/max(a,b), and 1 when both are empty', () => {
    expect(countSimilarity(3, 4)).toBe(0.75);
    expect(countSimilarity(0, 0)).toBe(1);
    expect(countSimilarity(0, 5)).toBe(0);
    expect(lengthSimilarity('one two three', 'one two three four')).toBe(0.75);
    expect(lengthSimilarity('', '')).toBe(1);
  });
  it('counts sentences with Intl.Segmenter, ignoring punctuation-only segments', () => {
    expect(sentenceCount('I agree. It matters! Does it?')).toBe(3);
    expect(sentenceCount('')).toBe(0);
    expect(sentenceCount('...')).toBe(0);
    expect(sentenceSimilarity('One. Two.', 'One. Two. Three. Four.')).toBe(0.5);
  });
  it('sentiment similarity is 1 - |cp - cr| / 2 on VADER compounds', () => {
    // compounds 0.4404 (good) and 0 (no lexicon words)
    expect(sentimentSimilarity('The book was good.', 'The book was blue.')).toBe(1 - 0.4404 / 2);
    expect(sentimentSimilarity('', '')).toBe(1);
  });
});

describe('quality', () => {
  it('closed items: an extractable answer', () => {
    expect(quality({ prediction: 'Yes, often.', questionType: 'yesno' })).toBe(1);
    expect(quality({ prediction: 'It depends.', questionType: 'yesno' })).toBe(0);
    expect(quality({ prediction: 'I agree.', questionType: 'agreement' })).toBe(1);
  });
  it('open items: 3+ words, no prompt echo; an unfinished long answer counts half (quality/quality.ts)', () => {
    expect(quality({ prediction: 'I value my privacy a lot.', questionType: 'open' })).toBe(1);
    expect(quality({ prediction: 'I said "it matters."', questionType: 'open' })).toBe(1);
    expect(quality({ prediction: 'Yes.', questionType: 'open' })).toBe(0);
    expect(quality({ prediction: 'I value my privacy and', questionType: 'open' })).toBe(1); // under 8 words: no completeness rule
    expect(quality({ prediction: 'I value my privacy and keep my details to', questionType: 'open' })).toBe(0.5);
    expect(quality({ prediction: 'I am not sure about this one.', questionType: 'open' })).toBe(0); // the constant non-answer
    expect(quality({ prediction: '', questionType: 'open' })).toBe(0);
    expect(quality({ prediction: 'Sure.\nQuestion: what else?', questionType: 'open' })).toBe(0);
    expect(quality({ prediction: 'Fine. <|im_start|>user hi.', questionType: 'open' })).toBe(0);
    const question = 'How has your cultural identity shaped your outlook on life?';
    expect(quality({ prediction: `How has your cultural identity shaped your outlook on life? It made me open.`, questionType: 'open', question })).toBe(0);
  });
});

describe('answerAgreement', () => {
  it('match and normalised ordinal distance for closed items', () => {
    expect(answerAgreement('I agree.', 'I strongly agree.', 'agreement')).toMatchObject({ match: 0, distance: 0.25 });
    expect(answerAgreement('Yes.', 'Yes, I do.', 'yesno')).toMatchObject({ match: 1, distance: 0 });
    expect(answerAgreement('It depends.', 'No.', 'yesno')).toMatchObject({ match: 0, distance: 1 });
  });
  it('is undefined for open items and unreadable references', () => {
    expect(answerAgreement('Yes.', 'No.', 'open').match).toBeUndefined();
    expect(answerAgreement('Yes.', 'Hmm.', 'yesno').match).toBeUndefined();
  });
});
