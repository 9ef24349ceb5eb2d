import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import samplePersonas from '../../stages/sample-personas/index.js';
import stage from '../../stages/synthesize-responses/index.js';
import { artifact, makeStageContext } from '../helpers/stage-context.js';
import { tinyModelDir } from '../model/llama/model-dir-fixture.js';

describe('synthesize-responses, model teacher', () => {
  it('answers with a model input found transitively, reproducibly per seed', async () => {
    const p = makeStageContext(samplePersonas, { count: 3, records: 6, seed: 2 });
    await samplePersonas.run(p.ctx);
    const personas = artifact('personas', p.outDir);
    const model = artifact('model', tinyModelDir({ maxPositionEmbeddings: 2048 }).dir, 'base');
    const quantized = artifact('files', p.outDir, 'wrapper', [model]); // the model sits one hop up
    const teacher = { kind: 'model', temperature: 0.8, max_tokens: 5, batch_size: 4 };
    const run = async (seed: number) => {
      const r = makeStageContext(stage, { teacher, max_failure_share: 1 }, { inputs: [personas, quantized], seed });
      await stage.run(r.ctx);
      return { dataset: readFileSync(join(r.outDir, 'dataset.jsonl'), 'utf8'), failures: readFileSync(join(r.outDir, 'failures.jsonl'), 'utf8') };
    };
    const a = await run(4);
    const b = await run(4);
    expect(b).toEqual(a);
    const records = a.dataset.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const failed = a.failures.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(records.length + failed.length).toBe(6);
    for (const r of records) expect(r.meta.teacher).toBe('model:base');
    for (const f of failed) expect(f.reason).toBe('the model produced an empty answer');
  });

  it('needs a model input', async () => {
    const p = makeStageContext(samplePersonas, { count: 2, records: 4, seed: 2 });
    await samplePersonas.run(p.ctx);
    const r = makeStageContext(stage, { teacher: { kind: 'model' } }, { inputs: [artifact('personas', p.outDir)] });
    await expect(stage.run(r.ctx)).rejects.toThrow(/teacher kind "model" needs a model stage/);
  });
});
