import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import stage from '../../stages/import-predictions/index.js';
import scoreStage from '../../stages/score/index.js';
import { artifact, makeStageContext, tempDir } from '../helpers/stage-context.js';
import { DataError, StageFailure } from '../../src/core/errors.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function project(lines: string[]): string {
  const dir = tempDir('pp-imp-');
  made.push(dir);
  writeFileSync(join(dir, 'preds.jsonl'), lines.join('\n') + '\n');
  return dir;
}

function dataset(): ReturnType<typeof artifact> {
  const dir = tempDir('pp-ds-');
  made.push(dir);
  const scale = { points: 5, labels: ['Strongly disagree', 'Disagree', 'Neither agree nor disagree', 'Agree', 'Strongly agree'], reverse_scored: false };
  const records = [
    { id: 'a', domain: 'finance', question_type: 'agreement', question: { id: 'finance-q08', text: 'Money is a source of stress for me.', scale }, reference: 'Agree (4 of 5). It is.' },
    { id: 'b', domain: 'health', question_type: 'open', question: { id: 'health-q01', text: 'How do you stay well?' }, reference: 'I walk every day.' },
  ];
  writeFileSync(join(dir, 'dataset.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return artifact('responses', dir, 'imported');
}

async function run(dir: string, params: Record<string, unknown> = {}, inputs: ReturnType<typeof artifact>[] = []) {
  const r = makeStageContext(stage, { path: 'preds.jsonl', ...params }, { pipelineDir: dir, inputs });
  made.push(dirname(r.outDir));
  await stage.run(r.ctx);
  const jsonl = (f: string) => readFileSync(join(r.outDir, f), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
  return { ...r, jsonl };
}

describe('import-predictions', () => {
  it('joins outside predictions to a dataset by id, so score reads question, type and scale', async () => {
    const dir = project([
      JSON.stringify({ id: 'a', domain: 'finance', reference: 'Agree (4 of 5). It is.', prediction: 'I strongly agree.', bleu: 0.1 }),
      JSON.stringify({ id: 'b', reference: 'I walk every day.', prediction: 'I walk daily.' }),
      JSON.stringify({ id: 'c', reference: 'x', prediction: 'y' }),
      '{broken',
    ]);
    const r = await run(dir, { max_rejected_share: 0.5 }, [dataset()]);
    const preds = r.jsonl('predictions.jsonl');
    expect(preds.map((p) => p.id)).toEqual(['a', 'b', 'c']);
    expect(preds[0]).toEqual({ id: 'a', domain: 'finance', question_type: 'agreement', question: 'Money is a source of stress for me.', question_id: 'finance-q08', scale: { points: 5, labels: ['Strongly disagree', 'Disagree', 'Neither agree nor disagree', 'Agree', 'Strongly agree'] }, reference: 'Agree (4 of 5). It is.', prediction: 'I strongly agree.' });
    expect(preds[2]).toMatchObject({ id: 'c', question_type: null, question: null });
    expect(r.jsonl('rejected.jsonl')).toEqual([{ line: 4, id: null, reason: expect.stringMatching(/^not JSON/) }]);
    expect(JSON.parse(readFileSync(join(r.outDir, 'import-stats.json'), 'utf8'))).toMatchObject({ lines: 4, records: 3, rejected: 1, joined: 2, unmatched: 1, unmatched_ids: ['c'] });

    const s = makeStageContext(scoreStage, {}, { inputs: [artifact('predictions', r.outDir, 'outside')] });
    made.push(dirname(s.outDir));
    await scoreStage.run(s.ctx);
    const metrics = JSON.parse(readFileSync(join(s.outDir, 'metrics.json'), 'utf8'));
    expect(metrics.n).toBe(3);
    expect(metrics.by_question_type.agreement.answer_match).toBe(0); // strongly agree (5) vs agree (4)
  });

  it('reads other field names', async () => {
    const dir = project([JSON.stringify({ uid: 7, gold: 'I walk.', output: 'I run.' })]);
    const r = await run(dir, { fields: { id: 'uid', reference: 'gold', prediction: 'output' } });
    expect(r.jsonl('predictions.jsonl')[0]).toMatchObject({ id: '7', reference: 'I walk.', prediction: 'I run.' });
  });

  it('fails clearly on a missing file, an empty one, or too many unusable lines', async () => {
    const dir = project(['{"id": "a"}', '{"id": "b", "reference": "r"}']);
    const err = await run(dir).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StageFailure);
    expect((err as Error).message).toMatch(/2 of 2 lines .* are unusable .* line 1: missing or non-string "prediction"/);
    await expect(run(dir, { path: 'nope.jsonl' })).rejects.toThrow(/nope\.jsonl does not exist/);
    const empty = tempDir('pp-imp-');
    made.push(empty);
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'preds.jsonl'), '\n');
    await expect(run(empty)).rejects.toBeInstanceOf(DataError);
  });
});
