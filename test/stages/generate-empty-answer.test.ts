/**
 * The generate stage with a model that ends some answers before their first token (issue 11):
 * an empty answer is a prediction "" with finish_reason "stop", and the stage succeeds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import stage from '../../stages/generate/index.js';
import { chatmlPrompt, readChatmlSplit } from '../../src/formats/chatml.js';
import { artifact, makeStageContext } from '../helpers/stage-context.js';
import { eosFirstModelDir } from '../model/generate/eos-first-fixture.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('generate stage: an empty answer', () => {
  it('is written as "" with finish_reason stop; the other records are answered', async () => {
    const data = mkdtempSync(join(tmpdir(), 'pp-chatml-empty-'));
    made.push(data);
    const records = [0, 1, 2].map((i) => ({
      id: `q${i}`,
      domain: 'health',
      question_type: 'open',
      messages: [
        { role: 'system', content: `You are persona ${i}.` },
        { role: 'user', content: `Question ${i}?` },
        { role: 'assistant', content: `Answer ${i}.` },
      ],
    }));
    writeFileSync(join(data, 'test.jsonl'), `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
    writeFileSync(join(data, 'train.jsonl'), '');
    // Only q1's first greedy token ends the answer.
    const chats = readChatmlSplit(join(data, 'test.jsonl')).map(chatmlPrompt);
    const { dir: model } = await eosFirstModelDir([chats[1]!]);
    made.push(dirname(model));
    const run = makeStageContext(stage, { do_sample: false, max_new_tokens: 4, batch_size: 2 }, { inputs: [artifact('model', model), artifact('chatml', data)] });
    await stage.run(run.ctx);
    const predictions = readFileSync(join(run.outDir, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(predictions.map((p) => p.id)).toEqual(['q0', 'q1', 'q2']);
    expect(predictions[1]).toMatchObject({ id: 'q1', prediction: '', completion_tokens: 0, finish_reason: 'stop' });
    const stats = JSON.parse(readFileSync(join(run.outDir, 'generation-stats.json'), 'utf8'));
    expect(stats.finish_reasons.stop).toBeGreaterThanOrEqual(1);
  });
});
