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
});
