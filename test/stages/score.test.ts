import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import stage from '../../stages/score/index.js';
import { artifact, makeStageContext, tempDir } from '../helpers/stage-context.js';
import { bleu } from '../../src/metrics/bleu.js';

function predictionsDir(lines: string[]): string {
  const dir = tempDir('pp-pred-');
  writeFileSync(join(dir, 'predictions.jsonl'), lines.join('\n') + '\n');
  return dir;
}

const good = [
  JSON.stringify({ id: '1', domain: 'finance', question_type: 'open', reference: 'I save a bit every month.', prediction: 'I save some money every month.' }),
  JSON.stringify({ id: '2', domain: 'technology', question_type: 'agreement', question_id: 't1', reference: 'I agree.', prediction: 'I strongly agree.' }),
];

describe('score stage', () => {
  it('fills defaults and writes metrics.json + records.jsonl', async () => {
    const dir = predictionsDir([...good, 'oops']);
    const run = makeStageContext(stage, {}, { inputs: [artifact('predictions', dir, 'predictions')] });
    expect(run.ctx.params.metrics).toEqual(['bleu', 'rouge', 'distinct', 'survey']);
    expect(run.ctx.params.bertscore.num_layers).toBe(17);
    await stage.run(run.ctx);
    const metrics = JSON.parse(readFileSync(join(run.outDir, 'metrics.json'), 'utf8'));
    expect(metrics.n).toBe(2);
    expect(metrics.skipped).toEqual([{ line: 3, reason: expect.stringContaining('not JSON') }]);
    expect(metrics.overall.bleu).toBeCloseTo((bleu('I save some money every month.', 'I save a bit every month.') + bleu('I strongly agree.', 'I agree.')) / 2, 15);
    expect(Object.keys(metrics.by_domain)).toEqual(['finance', 'technology']);
    expect(metrics.overall.answer_distance).toBe(0.25);
    expect(readFileSync(join(run.outDir, 'records.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(run.logs.some((l) => l.startsWith('warn: skipped 1 bad line'))).toBe(true);
    expect(run.provenance.score).toMatchObject({ records: 2, skipped: 1 });
  });

  it('is byte-identical on a re-run', async () => {
    const dir = predictionsDir(good);
    const a = makeStageContext(stage, {}, { inputs: [artifact('predictions', dir, 'predictions')] });
    const b = makeStageContext(stage, {}, { inputs: [artifact('predictions', dir, 'predictions')] });
    await stage.run(a.ctx);
    await stage.run(b.ctx);
    for (const f of ['metrics.json', 'records.jsonl']) expect(readFileSync(join(a.outDir, f))).toEqual(readFileSync(join(b.outDir, f)));
  });

  it('rejects unknown metrics in params, a missing predictions.jsonl, and bertscore for now', async () => {
    expect(() => makeStageContext(stage, { metrics: ['blue'] })).toThrow(/metrics/);
    const empty = tempDir('pp-empty-');
    const run = makeStageContext(stage, {}, { inputs: [artifact('predictions', empty, 'gen')] });
    await expect(stage.run(run.ctx)).rejects.toThrow(/no predictions.jsonl/);
    const dir = predictionsDir(good);
    const bs = makeStageContext(stage, { metrics: ['bertscore'] }, { inputs: [artifact('predictions', dir, 'gen')] });
    await expect(stage.run(bs.ctx)).rejects.toThrow(/bertscore/);
  });
});
