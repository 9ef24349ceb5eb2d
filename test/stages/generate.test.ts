import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import stage from '../../stages/generate/index.js';
import initModel from '../../stages/init-model/index.js';
import quantize from '../../stages/quantize/index.js';
import { artifact, makeStageContext, tempDir } from '../helpers/stage-context.js';
import { tinyModelDir } from '../model/llama/model-dir-fixture.js';
import { Prng } from '../../src/core/prng.js';
import { linearPath, linearShape } from '../../src/model/architectures/llama.js';
import { writeSafetensors } from '../../src/model/safetensors/index.js';
import type { HostTensor } from '../../src/model/tensor.js';

const { dir: modelDir, cfg } = tinyModelDir();

function chatmlDir(records: unknown[]): string {
  const dir = tempDir('pp-chatml-');
  const lines = records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');
  writeFileSync(join(dir, 'test.jsonl'), `${lines}\n`);
  writeFileSync(join(dir, 'train.jsonl'), '');
  return dir;
}

const records = Array.from({ length: 5 }, (_, i) => ({
  id: `q${i}`,
  domain: i % 2 ? 'health' : 'education',
  question_type: 'open',
  messages: [
    { role: 'system', content: `You are persona ${i}.` },
    { role: 'user', content: `Question ${i}?` },
    { role: 'assistant', content: `Answer ${i}.` },
  ],
}));

function adapterDir(): string {
  const dir = tempDir('pp-adapter-');
  const prng = new Prng(3);
  const tensors = new Map<string, HostTensor>();
  const [out, inDim] = linearShape(cfg, 'v_proj');
  const path = linearPath(0, 'v_proj');
  tensors.set(`base_model.model.${path}.lora_A.weight`, { dtype: 'F32', shape: [2, inDim], data: Float32Array.from({ length: 2 * inDim }, () => prng.normal()) });
  tensors.set(`base_model.model.${path}.lora_B.weight`, { dtype: 'F32', shape: [out, 2], data: Float32Array.from({ length: 2 * out }, () => prng.normal()) });
  writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors);
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: ['v_proj'] }));
  return dir;
}

async function runStage(params: Record<string, unknown>, inputs: ReturnType<typeof artifact>[]) {
  const run = makeStageContext(stage, params, { inputs });
  await stage.run(run.ctx);
  return run;
}

describe('generate stage', () => {
  const data = chatmlDir(records);
  const params = { max_new_tokens: 6, temperature: 0.9, top_p: 0.95, batch_size: 2 };

  it('answers every record with the documented fields; same inputs, byte-identical output', async () => {
    const a = await runStage(params, [artifact('model', modelDir), artifact('chatml', data)]);
    const text = readFileSync(join(a.outDir, 'predictions.jsonl'), 'utf8');
    const preds = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(preds.map((p) => p.id)).toEqual(records.map((r) => r.id));
    expect(preds[1]).toMatchObject({ domain: 'health', question_type: 'open', reference: 'Answer 1.' });
    for (const p of preds) {
      expect(typeof p.prediction).toBe('string');
      expect(p.prompt_tokens).toBeGreaterThan(10);
      expect(p.completion_tokens).toBeLessThanOrEqual(6);
    }
    const stats = JSON.parse(readFileSync(join(a.outDir, 'generation-stats.json'), 'utf8'));
    expect(stats.records).toBe(5);
    expect(a.provenance.generate).toMatchObject({ records: 5, throughput: { generated_records: 5 } });
    expect(a.progress.at(-1)).toEqual([5, 5, 'records']);
    const b = await runStage(params, [artifact('model', modelDir), artifact('chatml', data)]);
    expect(readFileSync(join(b.outDir, 'predictions.jsonl'), 'utf8')).toBe(text);
  });

  it('resumes from whole batches left in the work dir', async () => {
    const full = await runStage(params, [artifact('model', modelDir), artifact('chatml', data)]);
    const fullText = readFileSync(join(full.outDir, 'predictions.jsonl'), 'utf8');
    const run = makeStageContext(stage, params, { inputs: [artifact('model', modelDir), artifact('chatml', data)] });
    const firstBatch = fullText.split('\n').slice(0, 2).join('\n') + '\n';
    writeFileSync(join(run.ctx.workDir, 'predictions.partial.jsonl'), firstBatch);
    await stage.run(run.ctx);
    expect(readFileSync(join(run.outDir, 'predictions.jsonl'), 'utf8')).toBe(fullText);
    expect(run.provenance.generate).toMatchObject({ throughput: { generated_records: 3 } });
  });

  it('starts over when the partial file ends in a line torn by a kill mid-append', async () => {
    const full = await runStage(params, [artifact('model', modelDir), artifact('chatml', data)]);
    const fullText = readFileSync(join(full.outDir, 'predictions.jsonl'), 'utf8');
    const run = makeStageContext(stage, params, { inputs: [artifact('model', modelDir), artifact('chatml', data)] });
    writeFileSync(join(run.ctx.workDir, 'predictions.partial.jsonl'), fullText.slice(0, fullText.indexOf('\n') + 20));
    await stage.run(run.ctx);
    expect(readFileSync(join(run.outDir, 'predictions.jsonl'), 'utf8')).toBe(fullText);
    expect(run.provenance.generate).toMatchObject({ throughput: { generated_records: 5 } });
  });

  it('finds the base model behind an adapter and applies the adapter', async () => {
    const adapter = artifact('adapter', adapterDir(), 'adapter', [artifact('model', modelDir, 'base')]);
    const greedy = { ...params, do_sample: false };
    const withAdapter = await runStage(greedy, [adapter, artifact('chatml', data)]);
    const plain = await runStage(greedy, [artifact('model', modelDir), artifact('chatml', data)]);
    expect(withAdapter.provenance.generate).toMatchObject({ adapter: { r: 2, lora_alpha: 4, modules: 1 } });
    expect(readFileSync(join(withAdapter.outDir, 'predictions.jsonl'), 'utf8')).not.toBe(readFileSync(join(plain.outDir, 'predictions.jsonl'), 'utf8'));
  });

  it('names the file and line of a bad record', async () => {
    const bad = chatmlDir([records[0], { id: 'x1', messages: [{ role: 'assistant', content: 'no question' }] }]);
    await expect(runStage(params, [artifact('model', modelDir), artifact('chatml', bad)])).rejects.toThrow(/test\.jsonl:2: record "x1": messages: needs a message with role "user"/);
    const broken = chatmlDir([records[0], '{"id": "x2", "messages": [']);
    await expect(runStage(params, [artifact('model', modelDir), artifact('chatml', broken)])).rejects.toThrow(/test\.jsonl:2: not valid JSON/);
  });

  it('fails clearly on a missing split file or a missing model', async () => {
    await expect(runStage({ ...params, split: 'val' }, [artifact('model', modelDir), artifact('chatml', data)])).rejects.toThrow(/val\.jsonl: cannot read/);
    await expect(runStage(params, [artifact('chatml', data)])).rejects.toThrow(/model/);
    const empty = tempDir();
    mkdirSync(join(empty, 'm'));
    await expect(runStage(params, [artifact('model', join(empty, 'm')), artifact('chatml', data)])).rejects.toThrow(/config\.json/);
  });

  it('runs the smoke chain init-model → quantize → generate', async () => {
    const base = makeStageContext(initModel, { preset: 'tiny', seed: 7 });
    await initModel.run(base.ctx);
    const baseRef = artifact('model', base.outDir, 'base');
    const q = makeStageContext(quantize, { bits: 4, block_size: 32 }, { inputs: [baseRef] });
    await quantize.run(q.ctx);
    const quantRef = artifact('model', q.outDir, 'quantized', [baseRef]);
    const run = await runStage({ ...params, limit: 3 }, [quantRef, artifact('chatml', data)]);
    const preds = readFileSync(join(run.outDir, 'predictions.jsonl'), 'utf8').trim().split('\n');
    expect(preds).toHaveLength(3);
    expect(run.provenance.generate).toMatchObject({ graph: 'onnx/model_q4.onnx', quantization: { bits: 4, blockSize: 32 } });
  });

  it('rejects bad params', () => {
    expect(() => makeStageContext(stage, { top_p: 0 })).toThrow(/top_p/);
    expect(() => makeStageContext(stage, { split: 'dev' })).toThrow(/split/);
    expect(() => makeStageContext(stage, { max_length: 5 })).toThrow(/max_length/);
  });
});
