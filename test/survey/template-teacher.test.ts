import { describe, expect, it } from 'vitest';
import { templateAnswer } from '../../src/survey/teachers/template.js';
import { ATTITUDE_DRIVERS, LADDER, demographicAttitude, driverCitation } from '../../src/survey/teachers/persona-effects.js';
import { ATTITUDES } from '../../src/survey/domains.js';
import { sampleSyntheticPersonas } from '../../src/survey/persona.js';
import { builtinBankDir, loadQuestionBank } from '../../src/survey/question-bank.js';
import { personaBlock } from '../../src/survey/record.js';
import { extractAnswer } from '../../src/metrics/answers.js';

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
  it('maps latent attitude extremes to scale ends (conditioning: attitudes), reversed for reverse-scored items', () => {
    const likert = bank.items.find((q) => q.type === 'likert' && !q.scale!.reverse_scored)!;
    const reversed = bank.items.find((q) => q.type === 'agreement' && q.scale!.reverse_scored)!;
    const yesno = bank.items.find((q) => q.type === 'yesno' && !q.scale!.reverse_scored)!;
    for (let i = 0; i < 20; i++) {
      expect(templateAnswer(withAttitude(0.98), likert, i, 'x', 'attitudes').level).toBeGreaterThanOrEqual(likert.scale!.points - 1);
      expect(templateAnswer(withAttitude(0.02), likert, i, 'x', 'attitudes').level).toBeLessThanOrEqual(2);
      expect(templateAnswer(withAttitude(0.98), reversed, i, 'x', 'attitudes').level).toBeLessThanOrEqual(2);
      expect(templateAnswer(withAttitude(0.98), yesno, i, 'x', 'attitudes').label).toBe('Yes');
      expect(templateAnswer(withAttitude(0.02), yesno, i, 'x', 'attitudes').label).toBe('No');
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

  it('follows the visible card fields by default (conditioning: demographics), as documented', () => {
    const finance = bank.items.find((q) => q.type === 'likert' && q.attitude === 'financial_security' && !q.scale!.reverse_scored)!;
    const incomes = ['under $25k', '$25k-50k', '$50k-75k', '$75k-100k', '$100k-150k', '$150k+'];
    // the ladder's level on a 5-point scale: 1 + floor(x · 5) for x = 0.1, 0.3, 0.45, 0.55, 0.7, 0.9
    const expected = [1, 2, 3, 3, 4, 5];
    incomes.forEach((income_bracket, i) => {
      const card = { ...persona, income_bracket };
      expect(demographicAttitude(card, 'financial_security')).toBe(LADDER[i]);
      const levels = Array.from({ length: 200 }, (_, k) => templateAnswer(card, finance, k, `r${k}`).level);
      // noise σ 0.03 against a 0.05 margin: about 95 % at the ladder's level, the rest one away
      expect(levels.filter((l) => l === expected[i]).length).toBeGreaterThan(170);
      for (const l of levels) expect(Math.abs(l! - expected[i]!)).toBeLessThanOrEqual(1);
    });
    // the latent attitudes no longer matter
    expect(templateAnswer(withAttitude(0.98), finance, 1, 'z').level).toBe(templateAnswer(withAttitude(0.02), finance, 1, 'z').level);
  });

  it('reads one visible field per attitude: age band, income, education or region', () => {
    expect(new Set(Object.keys(ATTITUDE_DRIVERS))).toEqual(new Set(ATTITUDES));
    const young = { ...persona, age: 20 }, old = { ...persona, age: 80 };
    expect(demographicAttitude(young, 'tech_affinity')).toBe(0.9);
    expect(demographicAttitude(old, 'tech_affinity')).toBe(0.1);
    expect(demographicAttitude(young, 'community_attachment')).toBe(0.1);
    expect(demographicAttitude({ ...persona, education: 'graduate degree' }, 'education_engagement')).toBe(0.9);
    expect(demographicAttitude({ ...persona, region: 'West' }, 'environmental_concern')).toBe(0.9);
    expect(demographicAttitude({ ...persona, region: 'South' }, 'environmental_concern')).toBe(0.1);
    expect(demographicAttitude({ ...persona, region: 'Atlantis' }, 'environmental_concern')).toBe(0.5);
    expect(demographicAttitude({ id: 'x' }, 'financial_security')).toBe(0.5);
    // every ladder value is at least 0.05 from the level boundaries of 5-point, 4-point and yes/no scales
    for (const v of LADDER) for (const edge of [0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 0.8]) expect(Math.abs(v - edge)).toBeGreaterThanOrEqual(0.05 - 1e-12);
  });

  it('with citeDriver, opens closed answers with the card line they follow, as the persona block shows it', () => {
    const card = { ...persona, age: 57, income_bracket: '$25k-50k', education: 'some college', region: 'Midwest' };
    expect(driverCitation(card, 'financial_security')).toBe('Income: $25k-50k');
    expect(driverCitation(card, 'tech_affinity')).toBe('Age: 57');
    expect(driverCitation(card, 'community_attachment')).toBe('Age: 57');
    expect(driverCitation(card, 'institutional_trust')).toBe('Education: some college');
    expect(driverCitation(card, 'environmental_concern')).toBe('Region: Midwest');
    expect(driverCitation({ id: 'x' }, 'environmental_concern')).toBeUndefined();
    const block = personaBlock(card);
    for (const item of bank.items) {
      const plain = templateAnswer(card, item, 5, `r-${item.id}`);
      const cited = templateAnswer(card, item, 5, `r-${item.id}`, 'demographics', { citeDriver: true });
      if (item.type === 'open') {
        expect(cited).toEqual(plain);
        continue;
      }
      const line = driverCitation(card, item.attitude)!;
      expect(block).toContain(`  ${line}\n`); // a line the prompt shows, word for word
      expect(cited.text).toBe(`${line}. ${plain.text}`);
      expect(cited.level).toBe(plain.level);
      // answer_match reads the same level from the cited answer
      expect(extractAnswer(cited.text, item.type, item.scale)?.level).toBe(plain.level);
    }
    // the latent-attitudes teacher has no card line to cite
    const likert = bank.items.find((q) => q.type === 'likert')!;
    expect(templateAnswer(card, likert, 5, 'a', 'attitudes', { citeDriver: true })).toEqual(templateAnswer(card, likert, 5, 'a', 'attitudes'));
  });
});

