import { describe, expect, it } from 'vitest';
import { extractAnswer } from '../../src/metrics/answers.js';

const level = (text: string, type: string, scale?: { points: number; labels?: string[] }): number | null => extractAnswer(text, type, scale)?.level ?? null;

describe('extractAnswer', () => {
  it('reads yes/no from the earliest yes- or no-word', () => {
    expect(level('Yes, I do identify with it.', 'yesno')).toBe(2);
    expect(level('No, I prefer to keep personal info private.', 'yesno')).toBe(1);
    expect(level('Not really; I have never felt that.', 'yesno')).toBe(1);
    expect(level('I do, definitely.', 'yesno')).toBe(2);
    expect(level('It depends on the day.', 'yesno')).toBeNull();
    expect(level('I know that feeling.', 'yesno')).toBeNull(); // 'know' is not 'no'
  });

  it('reads a rating and ignores the scale description', () => {
    expect(level('On a scale of 1 to 5, with 1 being "Strongly Disagree" and 5 being "Strongly Agree," I\'d rate myself a 3.', 'likert')).toBe(3);
    expect(level("I'd give it 4 out of 5.", 'likert')).toBe(4);
    expect(level('4/5 - mostly satisfied', 'likert')).toBe(4);
    expect(level('Satisfied (4 of 5). It has gone well.', 'likert')).toBe(4); // the template teacher's form
    expect(level('Often (3 of 4). Mostly clear.', 'likert', { points: 4 })).toBe(3);
    expect(level('I see 2 of 3 friends weekly.', 'likert')).toBeNull(); // 3 is not the scale's points
    expect(level('4 - often, when I can.', 'likert')).toBe(4);
    expect(level('I would rate it a 7.', 'likert')).toBeNull(); // out of range for 5 points
    expect(level('I have 2 kids and little time.', 'likert')).toBeNull();
  });

  it('reads labels: earliest, longest at the same place, whole words only', () => {
    const agreement = 'agreement';
    expect(level('I strongly agree with this.', agreement)).toBe(5);
    expect(level('I disagree, mostly.', agreement)).toBe(2);
    expect(level('Strongly disagree. Nobody should have to agree to that.', agreement)).toBe(1);
    expect(level("I'm neutral on it.", agreement)).toBe(3);
    expect(level('I agree.', agreement)).toBe(4);
    const freq = { points: 5, labels: ['Never', 'Rarely', 'Sometimes', 'Often', 'Very often'] };
    expect(level('Very often, almost daily.', 'likert', freq)).toBe(5);
    expect(level('I rarely do that.', 'likert', freq)).toBe(2);
  });

  it('returns null for open items and unreadable text', () => {
    expect(extractAnswer('Yes.', 'open')).toBeNull();
    expect(level('', 'agreement')).toBeNull();
  });
});
