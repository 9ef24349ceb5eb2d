import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import stage from '../../stages/quantize/index.js';
import { artifact, makeStageContext } from '../helpers/stage-context.js';
import { tinyModelDir } from '../model/llama/model-dir-fixture.js';
import { inspectModelDir } from '../../src/model/model-dir.js';

describe('quantize stage', () => {
  it('writes a q4 model dir and a size report; the logit error goes to provenance', async () => {
    const { dir } = tinyModelDir();
    const run = makeStageContext(stage, { bits: 4, block_size: 32 }, { inputs: [artifact('model', dir)] });
    await stage.run(run.ctx);
    const report = JSON.parse(readFileSync(join(run.outDir, 'quantize-report.json'), 'utf8'));
    expect(report.onnxFile).toBe('onnx/model_q4.onnx');
    expect(report.linearBytesQuantized).toBeLessThan(report.linearBytesFloat32 / 5);
    // Measurements (onnxruntime float reductions) are provenance, not content-hashed outputs.
    expect(report.evaluation).toBeUndefined();
    const evaluation = (run.provenance.quantize as { evaluation: { maxRelativeError: number; top1Agreement: number } }).evaluation;
    expect(evaluation.maxRelativeError).toBeGreaterThan(0);
    expect(evaluation.maxRelativeError).toBeLessThan(1);
    expect(evaluation.top1Agreement).toBeGreaterThan(0.5);
    const model = inspectModelDir(run.outDir);
    expect((model.configJson.quantization_config as Record<string, unknown>).bits).toBe(4);
    expect(run.provenance.quantize).toBeDefined();
  });

  it('8-bit has a smaller logit error than 4-bit on the same batch', async () => {
    const { dir } = tinyModelDir();
    const errors: number[] = [];
    for (const bits of [4, 8]) {
      const run = makeStageContext(stage, { bits, block_size: 32, sym: true }, { inputs: [artifact('model', dir)] });
      await stage.run(run.ctx);
      errors.push((run.provenance.quantize as { evaluation: { maxAbsError: number } }).evaluation.maxAbsError);
    }
    expect(errors[1]).toBeLessThan(errors[0]! / 4);
  });

  it('rejects bad params with the field named', () => {
    expect(() => makeStageContext(stage, { bits: 3 })).toThrow(/bits/);
    expect(() => makeStageContext(stage, { block_size: 48 })).toThrow(/block_size/);
    expect(() => makeStageContext(stage, { group_size: 32 })).toThrow(/group_size/);
  });

  it('fails clearly when the input model dir lacks its tokenizer', async () => {
    const { dir } = tinyModelDir();
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'tokenizer.json'));
    const run = makeStageContext(stage, {}, { inputs: [artifact('model', dir)] });
    await expect(stage.run(run.ctx)).rejects.toThrow(/tokenizer/);
  });
});
