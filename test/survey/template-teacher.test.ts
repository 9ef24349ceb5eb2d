import { describe, expect, it } from 'vitest';
import { templateAnswer } from '../../src/survey/teachers/template.js';
import { sampleSyntheticPersonas } from '../../src/survey/persona.js';
import { builtinBankDir, loadQuestionBank } from '../../src/survey/question-bank.js';

const bank = loadQuestionBank(builtinBankDir());
const persona = sampleSyntheticPersonas(1, { count: 1 }).cards[0]!;
const withAttitude = (v: number) => ({ ...persona, attitudes: Object.fromEntries(Object.keys(persona.attitudes).map((k) => [k, v])) as typeof persona.attitudes });

describe('template teacher', () => {
  it('is a pure function of (persona, item, seed, record id)', () => {
    const item = bank.items.find((q) => q.type === 'open')!;
    expect(templateAnswer(persona, item, 1, 'r1')).toEqual(templateAnswer(persona, item, 1, 'r1'));
    const texts = new Set(['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map((id) => templateAnswer(persona, item, 1, id).text));
    expect(texts.size).toBeGreaterThan(1);
  });
  it('maps attitude extremes to scale ends, reversed for reverse-scored items', () => {
    const likert = bank.items.find((q) => q.type === 'likert' && !q.scale!.reverse_scored)!;
    const reversed = bank.items.find((q) => q.type === 'agreement' && q.scale!.reverse_scored)!;
    const yesno = bank.items.find((q) => q.type === 'yesno' && !q.scale!.reverse_scored)!;
    for (let i = 0; i < 20; i++) {
      expect(templateAnswer(withAttitude(0.98), likert, i, 'x').level).toBeGreaterThanOrEqual(likert.scale!.points - 1);
      expect(templateAnswer(withAttitude(0.02), likert, i, 'x').level).toBeLessThanOrEqual(2);
      expect(templateAnswer(withAttitude(0.98), reversed, i, 'x').level).toBeLessThanOrEqual(2);
      expect(templateAnswer(withAttitude(0.98), yesno, i, 'x').label).toBe('Yes');
      expect(templateAnswer(withAttitude(0.02), yesno, i, 'x').label).toBe('No');
    }
  });
  it('writes open answers of one to three sentences with a persona detail, closed answers led by the label', () => {
    const open = bank.items.filter((q) => q.type === 'open');
    const counts = new Set<number>();
    for (const [i, item] of open.entries()) {
      const a = templateAnswer(persona, item, 3, `o${i}`);
      const n = a.text.split(/(?<=\.)\s+/).length;
      counts.add(n);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(3);
      expect(a.text).not.toMatch(/\{|\}/);
    }
    expect(counts.size).toBeGreaterThan(1);
    const closed = bank.items.find((q) => q.type === 'likert')!;
    const a = templateAnswer(persona, closed, 3, 'c');
    expect(a.text.startsWith(`${a.label} (${a.level} of ${closed.scale!.points}).`)).toBe(true);
  });
});
