import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkGraphSupport, writeOnnxModelDir, exportDecoderOnnx, readQuantizationConfig } from '../../../src/model/decoder/export.js';
import { loadModelDir } from '../../../src/model/model-dir.js';
import { referenceLogits } from '../../../src/model/reference/llama.js';
import { tempDir } from '../../helpers/stage-context.js';
import { tinyModelDir } from '../llama/model-dir-fixture.js';

describe('ONNX model dir export', () => {
  it('writes onnx/model.onnx that transformers.js loads and runs with the reference logits', async () => {
    const { dir } = tinyModelDir();
    const out = join(tempDir(), 'onnx-model');
    const exported = writeOnnxModelDir(dir, out);
    expect(exported.file).toBe('onnx/model.onnx');
    expect(exported.files).toContain('tokenizer.json');
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config['transformers.js_config']).toEqual({ dtype: 'fp32' });

    const { AutoModelForCausalLM, Tensor, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.useFSCache = false;
    const model = await AutoModelForCausalLM.from_pretrained(out, { local_files_only: true });
    const ids = [5, 70, 80, 90, 33];
    const inputIds = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
    const mask = new Tensor('int64', BigInt64Array.from(ids.map(() => 1n)), [1, ids.length]);
    const result = (await model({ input_ids: inputIds, attention_mask: mask })) as { logits: { data: Float32Array } };
    const loaded = loadModelDir(dir);
    const ref = referenceLogits(loaded.config, loaded.weights, ids);
    let d = 0, m = 0;
    for (let i = 0; i < ref.length; i++) {
      d = Math.max(d, Math.abs(result.logits.data[i]! - ref[i]!));
      m = Math.max(m, Math.abs(ref[i]!));
    }
    expect(d / m).toBeLessThan(1e-4);
    await model.dispose();
  });

  it('writes a q4 model dir with quantization_config that transformers.js generates from', async () => {
    const { dir } = tinyModelDir();
    const out = join(tempDir(), 'q4-model');
    const q = { bits: 4 as const, blockSize: 32, symmetric: false, accuracyLevel: 0 };
    writeOnnxModelDir(dir, out, { quantization: q });
    expect(existsSync(join(out, 'onnx/model_q4.onnx'))).toBe(true);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(readQuantizationConfig(config, 'config.json')).toEqual(q);
    expect(config['transformers.js_config'].dtype).toBe('q4');
    const { AutoModelForCausalLM, AutoTokenizer, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.useFSCache = false;
    const tokenizer = await AutoTokenizer.from_pretrained(out, { local_files_only: true });
    const model = await AutoModelForCausalLM.from_pretrained(out, { local_files_only: true });
    const inputs = tokenizer('hello');
    const generated = (await model.generate({ ...inputs, max_new_tokens: 4, do_sample: false })) as { dims: number[] };
    expect(generated.dims[1]).toBeGreaterThan(inputs.input_ids.dims[1]);
    await model.dispose();
  });

  it('external data export for in-memory weights', () => {
    const { dir } = tinyModelDir();
    const out = tempDir();
    const exported = exportDecoderOnnx(dir, out, { externalData: true });
    expect(exported.externalData).toBe(true);
    expect(existsSync(join(out, 'onnx/model.onnx_data'))).toBe(true);
  });

  it('rejects an unknown quantization method in config.json, naming the file', () => {
    expect(() => readQuantizationConfig({ quantization_config: { quant_method: 'gptq' } }, '/m/config.json')).toThrow(/\/m\/config.json.*gptq/);
    expect(() => readQuantizationConfig({ quantization_config: { quant_method: 'onnx_matmul_nbits', bits: 3, block_size: 32 } }, '/m/config.json')).toThrow(/4 or 8/);
  });

  it('refuses config features the graph does not implement, naming the file', () => {
    expect(() => checkGraphSupport({ rope_scaling: { rope_type: 'llama3', factor: 8 } }, '/m/config.json')).toThrow(/\/m\/config.json: rope_scaling "llama3"/);
    expect(() => checkGraphSupport({ hidden_act: 'gelu' }, '/m/config.json')).toThrow(/hidden_act "gelu"/);
    expect(() => checkGraphSupport({ rope_scaling: null, hidden_act: 'silu' }, '/m/config.json')).not.toThrow();
    const { dir } = tinyModelDir();
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, rope_scaling: { type: 'linear', factor: 2 } }));
    expect(() => writeOnnxModelDir(dir, tempDir())).toThrow(/rope_scaling "linear"/);
  });
});
