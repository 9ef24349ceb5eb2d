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
    expect(metrics.skipped).toEqual([{ line: 3, reason: expect.stringContaining('not valid JSON') }]);
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

  it('rejects unknown metrics in params, a missing predictions.jsonl, and bertscore without an encoder input', async () => {
    expect(() => makeStageContext(stage, { metrics: ['blue'] })).toThrow(/metrics/);
    const empty = tempDir('pp-empty-');
    const run = makeStageContext(stage, {}, { inputs: [artifact('predictions', empty, 'gen')] });
    await expect(stage.run(run.ctx)).rejects.toThrow(/no predictions.jsonl/);
    const dir = predictionsDir(good);
    const bs = makeStageContext(stage, { metrics: ['bertscore'] }, { inputs: [artifact('predictions', dir, 'gen')] });
    await expect(stage.run(bs.ctx)).rejects.toThrow(/bertscore needs an encoder model/);
  });
});

describe('score stage with BERTScore', () => {
  it('scores with an encoder model input', async () => {
    const { writeSafetensors } = await import('../../src/model/safetensors/write.js');
    const { byteLevelTokenizerFiles, byteLevelVocabSize, writeTokenizerFiles } = await import('../../src/model/tokenizer/index.js');
    const { randomBertWeights } = await import('../../src/model/bert/random-weights.js');
    const model = tempDir('pp-enc-');
    const cfg = { hiddenSize: 16, numHeads: 2, intermediateSize: 32, layers: 1, layerNormEps: 1e-12, positionOffset: 0 };
    writeSafetensors(join(model, 'model.safetensors'), randomBertWeights(cfg, { vocab: byteLevelVocabSize({}), positions: 128 }, 3));
    writeFileSync(join(model, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: 16, num_attention_heads: 2, intermediate_size: 32, num_hidden_layers: 1, pad_token_id: 0, max_position_embeddings: 128 }));
    writeTokenizerFiles(model, byteLevelTokenizerFiles({}));
    const dir = predictionsDir(good);
    const run = makeStageContext(stage, { metrics: ['bertscore', 'bleu'], bertscore: { num_layers: 1 } }, { inputs: [artifact('predictions', dir, 'gen'), artifact('model', model, 'encoder')] });
    await stage.run(run.ctx);
    const metrics = JSON.parse(readFileSync(join(run.outDir, 'metrics.json'), 'utf8'));
    expect(metrics.overall.bertscore_f1).toBeGreaterThan(0);
    expect(metrics.overall.bertscore_f1).toBeLessThanOrEqual(1 + 1e-6);
    expect(run.provenance.score).toMatchObject({ bertscore: { encoder: 'encoder', num_layers: 1 } });
  });
});
