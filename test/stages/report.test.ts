import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import scoreStage from '../../stages/score/index.js';
import reportStage from '../../stages/report/index.js';
import { artifact, makeStageContext, tempDir } from '../helpers/stage-context.js';
import { DataError } from '../../src/core/errors.js';

async function scoresFor(stageId: string, predictions: Array<Record<string, unknown>>) {
  const dir = tempDir('pp-pred-');
  writeFileSync(join(dir, 'predictions.jsonl'), predictions.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const run = makeStageContext(scoreStage, {}, { inputs: [artifact('predictions', dir, 'predictions')] });
  await scoreStage.run(run.ctx);
  return artifact('scores', run.outDir, stageId);
}

describe('report stage', () => {
  it('renders tables and charts from several score outputs, labelled by matrix value', async () => {
    const a = await scoresFor('scores[model=alpha]', [
      { id: 'r1', domain: 'finance', question_type: 'open', reference: 'I keep an emergency fund.', prediction: 'I keep an emergency fund.' },
      { id: 'r2', domain: 'health', question_type: 'open', reference: 'I walk daily.', prediction: 'Rarely.' },
    ]);
    const b = await scoresFor('scores[model=beta]', [
      { id: 'r3', domain: 'finance', question_type: 'open', reference: 'I keep an emergency fund.', prediction: 'Money is saved.' },
      { id: 'r4', domain: 'health', question_type: 'open', reference: 'I walk daily.', prediction: 'I walk daily.' },
    ]);
    const run = makeStageContext(reportStage, { compare_paper: true }, { inputs: [b, a] });
    await reportStage.run(run.ctx);
    const files = readdirSync(run.outDir).sort();
    expect(files).toEqual(expect.arrayContaining(['table2.md', 'table2.csv', 'table2.tex', 'table3.md', 'table3.csv', 'table3.tex', 'bleu-by-model.svg', 'answer-length-by-domain-alpha.svg', 'report.md']));
    const t2 = readFileSync(join(run.outDir, 'table2.csv'), 'utf8').split('\n');
    expect(t2[1]!.startsWith('alpha,')).toBe(true);
    expect(t2[2]!.startsWith('beta,')).toBe(true);
    expect(t2[3]!.startsWith('Phi-2 (paper),0.087')).toBe(true);
    const t3 = readFileSync(join(run.outDir, 'table3.csv'), 'utf8');
    expect(t3).toContain('finance,alpha,1.000');
    expect(t3).toContain('health,beta,');
  });

  it('needs at least one scores input and a readable metrics.json', async () => {
    const none = makeStageContext(reportStage, {});
    await expect(reportStage.run(none.ctx)).rejects.toThrow(/at least one "scores" input/);
    const broken = makeStageContext(reportStage, {}, { inputs: [artifact('scores', tempDir('pp-x-'), 'scores')] });
    await expect(reportStage.run(broken.ctx)).rejects.toThrow(/metrics.json/);
  });

  it('names the file and line of a broken records.jsonl line', async () => {
    const dir = tempDir('pp-x-');
    writeFileSync(join(dir, 'metrics.json'), JSON.stringify({ overall: { bleu: 0.5 }, by_domain: {} }));
    writeFileSync(join(dir, 'records.jsonl'), `${JSON.stringify({ id: 'r5', domain: 'finance', prediction_words: 3 })}\n{oops\n`);
    const run = makeStageContext(reportStage, {}, { inputs: [artifact('scores', dir, 'scores')] });
    const err = await reportStage.run(run.ctx).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toMatch(/records\.jsonl:2 from input "scores" is not JSON/);
    expect((err as DataError).location).toEqual({ file: join(dir, 'records.jsonl'), line: 2 });
  });

  it('reads a ChatML input for answer_match baselines: baselines.json and the fields in comparison.json', async () => {
    const scale = { points: 2, labels: ['No', 'Yes'] };
    const rec = (id: string, yes: boolean) => {
      const reference = yes ? 'Yes. I do.' : 'No. I do not.';
      return { id, domain: 'finance', question_type: 'yesno', question: { id: 'q1', text: 'Do you?', scale }, reference, messages: [{ role: 'user', content: 'Do you?' }, { role: 'assistant', content: reference }] };
    };
    const splits = tempDir('pp-chatml-');
    writeFileSync(join(splits, 'train.jsonl'), [rec('t1', true), rec('t2', true), rec('t3', false)].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const test = [rec('r1', true), rec('r2', false), rec('r3', true)];
    writeFileSync(join(splits, 'test.jsonl'), test.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const pred = (r: ReturnType<typeof rec>, prediction: string) => ({ id: r.id, domain: r.domain, question_type: r.question_type, question_id: 'q1', scale, reference: r.reference, prediction });
    const base = await scoresFor('sb', test.map((r) => pred(r, 'No.')));
    const ft = await scoresFor('sf', test.map((r) => pred(r, r.reference)));
    const chatml = artifact('chatml', splits, 'chatml');
    const run = makeStageContext(reportStage, { comparison: { base: 'sb', finetuned: 'sf' } }, { inputs: [base, ft, chatml] });
    await reportStage.run(run.ctx);
    const am = (JSON.parse(readFileSync(join(run.outDir, 'comparison.json'), 'utf8')) as Array<Record<string, unknown>>).find((e) => e.metric === 'answer_match')!;
    expect(am).toMatchObject({ base: 1 / 3, finetuned: 1, n: 3, chance: 0.5 });
    expect(am.persona_blind as number).toBeCloseTo(2 / 3, 12); // training's majority is Yes: right on r1 and r3
    const b = JSON.parse(readFileSync(join(run.outDir, 'baselines.json'), 'utf8'));
    expect(b.groups.map((g: { group: string }) => g.group)).toEqual(['all', 'yesno']);

    const lone = makeStageContext(reportStage, {}, { inputs: [base, chatml] });
    await expect(reportStage.run(lone.ctx)).rejects.toThrow(/read only for the comparison's baselines; set comparison/);
    const empty = makeStageContext(reportStage, { comparison: { base: 'sb', finetuned: 'sf' } }, { inputs: [base, ft, artifact('chatml', tempDir('pp-x-'), 'chatml')] });
    await expect(reportStage.run(empty.ctx)).rejects.toThrow(/input "chatml" has no train\.jsonl/);
    writeFileSync(join(splits, 'test.jsonl'), '{oops\n');
    const broken = makeStageContext(reportStage, { comparison: { base: 'sb', finetuned: 'sf' } }, { inputs: [base, ft, chatml] });
    await expect(reportStage.run(broken.ctx)).rejects.toThrow(/test\.jsonl:1: not valid JSON/);
  });
});
