import { describe, expect, it } from 'vitest';
import { scorePredictions } from '../../src/metrics/score-file.js';
import { qualityParts } from '../../src/metrics/quality/quality.js';
import { CORRUPTIONS, labelledPredictions, rocAuc, type LabelledItem } from '../../src/metrics/quality/labelled-set.js';
import { isEnglishWord } from '../../src/metrics/quality/words.js';
import { QuestionTopics } from '../../src/metrics/quality/topics.js';
import { templateAnswer } from '../../src/survey/teachers/template.js';
import { sampleSyntheticPersonas } from '../../src/survey/persona.js';
import { builtinBankDir, loadQuestionBank } from '../../src/survey/question-bank.js';

/**
 * The labelled set: every item of the built-in bank answered by four synthetic personas; the
 * reference is the template teacher's answer, the real answer (label 1) a second teacher answer
 * (another seed: other wording, the same persona logic), the corruptions (label 0) made from it.
 */
function templateItems(): LabelledItem[] {
  const bank = loadQuestionBank(builtinBankDir());
  const personas = sampleSyntheticPersonas(21, { count: 80 }).cards;
  const items: LabelledItem[] = [];
  bank.items.forEach((q, k) => {
    for (let j = 0; j < 4; j++) {
      const persona = personas[(k * 4 + j) % personas.length]!;
      const id = `${q.id}-${persona.id}`;
      items.push({
        id, domain: q.domain, question_type: q.type, question: q.text, question_id: q.id, scale: q.scale,
        reference: templateAnswer(persona, q, 1, id).text,
        answer: templateAnswer(persona, q, 2, id).text,
      });
    }
  });
  return items;
}

async function qualities(items: readonly LabelledItem[], variant: Parameters<typeof labelledPredictions>[1]): Promise<number[]> {
  const records = labelledPredictions(items, variant, 5).map((record, i) => ({ line: i + 1, record }));
  const result = await scorePredictions(records, { metrics: ['quality'], by: [] });
  return result.records.map((r) => r.scores.quality!);
}

describe('quality as a classifier of real answers vs corrupted ones', () => {
  it('separates them with ROC AUC >= 0.9 overall, and catches every corruption kind', async () => {
    const items = templateItems();
    const good = await qualities(items, 'good');
    expect(good.length).toBe(328);
    const bad: number[] = [];
    const perKind: Record<string, number> = {};
    for (const kind of CORRUPTIONS) {
      const q = await qualities(items, kind);
      expect(q.length).toBeGreaterThan(40);
      perKind[kind] = rocAuc(good, q);
      bad.push(...q);
    }
    const auc = rocAuc(good, bad);
    expect(auc).toBeGreaterThanOrEqual(0.9);
    for (const kind of CORRUPTIONS) expect(perKind[kind], kind).toBeGreaterThanOrEqual(0.8);
    // real answers score high on average; the constant non-answer of the issue scores 0
    expect(good.reduce((a, b) => a + b, 0) / good.length).toBeGreaterThan(0.85);
  });
});

describe('quality parts', () => {
  it('gives 0 to non-answers, prompt echo, closed answers without a level, and too-short open answers', () => {
    expect(qualityParts({ prediction: 'I am not sure about this one.', questionType: 'open' })).toMatchObject({ form: 0, reason: 'non-answer', quality: 0 });
    expect(qualityParts({ prediction: 'Not sure, maybe a 3 out of 5.', questionType: 'likert' }).form).toBe(1);
    expect(qualityParts({ prediction: 'Question: How are you?\nFine', questionType: 'open' })).toMatchObject({ reason: 'prompt-echo' });
    expect(qualityParts({ prediction: 'How often do you exercise? Often.', questionType: 'open', question: 'How often do you exercise?' })).toMatchObject({ reason: 'prompt-echo' });
    expect(qualityParts({ prediction: 'I tend to enjoy my work most days.', questionType: 'likert' })).toMatchObject({ reason: 'no-level' });
    expect(qualityParts({ prediction: 'I would rate it a 7.', questionType: 'likert' })).toMatchObject({ reason: 'no-level' });
    expect(qualityParts({ prediction: 'Yes, definitely.', questionType: 'likert' })).toMatchObject({ reason: 'no-level' });
    expect(qualityParts({ prediction: 'Fine.', questionType: 'open' })).toMatchObject({ reason: 'too-short' });
    expect(qualityParts({ prediction: 'Agree.', questionType: 'agreement' }).quality).toBe(1);
    expect(qualityParts({ prediction: '4', questionType: 'likert' }).quality).toBe(1);
  });

  it('scales by wordness, completeness and repetition', () => {
    expect(qualityParts({ prediction: 'I walk to work most days because I enjoy it.', questionType: 'open' }).quality).toBe(1);
    expect(qualityParts({ prediction: 'Whode abotu teh qitive fro mose doys wtih.', questionType: 'open' }).wordness).toBe(0);
    expect(qualityParts({ prediction: 'I walk to work most days because I enjoy the', questionType: 'open' }).completeness).toBe(0.5);
    expect(qualityParts({ prediction: 'I walk to I walk to I walk to I walk to.', questionType: 'open' }).repetition).toBeLessThan(0.3);
    expect(isEnglishWord("don't")).toBe(true);
    expect(isEnglishWord("won't")).toBe(true);
    expect(isEnglishWord('well-being')).toBe(true);
    expect(isEnglishWord('qitive')).toBe(false);
    expect(isEnglishWord('apac', new Set(['apac']))).toBe(true);
  });

  it('relevance: an answer built from another question\'s topic words scores low, a generic one near 1', () => {
    const refs = [
      ['q1', 'I keep an emergency fund and a budget for every month.'],
      ['q1', 'My budget and my savings fund cover surprises.'],
      ['q1', 'A monthly budget keeps my spending in check.'],
      ['q2', 'I walk the dog and go running in the park.'],
      ['q2', 'Running and walking keep me fit.'],
      ['q2', 'I go to the gym and run twice a week.'],
    ] as const;
    const topics = new QuestionTopics(refs.map(([key, reference]) => ({ key, reference })));
    expect(topics.relevance(0, 'I stick to a budget and save into a fund.')).toBe(1);
    expect(topics.relevance(0, 'I go running and walk in the park.')!).toBeLessThan(0.2);
    expect(topics.relevance(0, 'Life is good and I am happy.')!).toBeGreaterThan(0.9); // generic: matches no question in particular
    expect(topics.relevance(0, 'It is what it is.')).toBeUndefined(); // no content words
    expect(new QuestionTopics([{ key: 'q1', reference: 'x y z' }]).relevance(0, 'budget fund')).toBeUndefined();
  });

  it('ROC AUC is Mann–Whitney U with ties counted one half', () => {
    expect(rocAuc([1, 2, 3], [0])).toBe(1);
    expect(rocAuc([0], [1, 2])).toBe(0);
    expect(rocAuc([1, 1], [1, 1])).toBe(0.5);
    expect(rocAuc([0.9, 0.4], [0.4, 0.1])).toBe(0.875);
  });
});
