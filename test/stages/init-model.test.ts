import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors.js';
import initModel from '../../stages/init-model/index.js';
import { loadModelDir } from '../../src/model/model-dir.js';
import { expectedWeights } from '../../src/model/architectures/index.js';
import { parameterCount, presetConfig } from '../../src/model/presets.js';
import { loadTokenizer } from '../../src/model/tokenizer/index.js';
import { listFiles } from '../../src/model/model-dir.js';
import { artifact, makeStageContext, tempDir } from '../helpers/stage-context.js';

const chatmlRecord = (id: string, user: string, assistant: string) =>
  JSON.stringify({ id, messages: [{ role: 'system', content: 'You are a survey respondent.' }, { role: 'user', content: user }, { role: 'assistant', content: assistant }] });

describe('init-model stage', () => {
  it('tiny preset: a loadable HF model dir with tokenizer and ONNX graph, byte-identical on rerun', async () => {
    const a = makeStageContext(initModel, { preset: 'tiny' }, { seed: 42 });
    await initModel.run(a.ctx);
    const m = loadModelDir(a.outDir);
    expect(m.config).toEqual({ ...presetConfig('tiny'), torchDtype: 'float32' });
    expect(existsSync(join(a.outDir, 'onnx/model.onnx'))).toBe(true);
    expect(JSON.parse(readFileSync(join(a.outDir, 'config.json'), 'utf8'))['transformers.js_config']).toEqual({ dtype: 'fp32' });
    const tok = await loadTokenizer(a.outDir);
    expect(tok.decode(tok.encode('Hi 😀'))).toBe('Hi 😀');
    expect(a.provenance).toMatchObject({ preset: 'tiny', parameters: parameterCount(presetConfig('tiny')), weightSeed: 42 });
    const steps = expectedWeights(presetConfig('tiny')).size + 1; // every tensor, then the ONNX export
    expect(a.progress.at(-1)).toEqual([steps, steps, 'done']);
    expect(a.progress.map(([done]) => done)).toEqual([...Array.from({ length: steps - 1 }, (_, i) => i + 1), steps]);

    const b = makeStageContext(initModel, { preset: 'tiny' }, { seed: 42 });
    await initModel.run(b.ctx);
    const files = listFiles(a.outDir);
    expect(listFiles(b.outDir)).toEqual(files);
    for (const f of files) expect(readFileSync(join(b.outDir, f)).equals(readFileSync(join(a.outDir, f))), f).toBe(true);

    const c = makeStageContext(initModel, { preset: 'tiny', seed: 43, export_onnx: false }, { seed: 42 });
    await initModel.run(c.ctx);
    expect(readFileSync(join(c.outDir, 'model.safetensors')).equals(readFileSync(join(a.outDir, 'model.safetensors')))).toBe(false);
    expect(existsSync(join(c.outDir, 'onnx'))).toBe(false);
  });

  it('the dir runs in transformers.js: tokenizer, chat template and greedy generation', async () => {
    const run = makeStageContext(initModel, { preset: 'tiny' }, { seed: 3 });
    await initModel.run(run.ctx);
    const { AutoModelForCausalLM, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.useFSCache = false;
    const tok = await loadTokenizer(run.outDir);
    const model = await AutoModelForCausalLM.from_pretrained(run.outDir, { dtype: 'fp32' });
    const prompt = tok.apply_chat_template([{ role: 'user', content: 'Hello' }], { tokenize: false, add_generation_prompt: true }) as string;
    const inputs = tok(prompt);
    const out = (await model.generate({ ...inputs, max_new_tokens: 6, do_sample: false })) as { dims: number[]; tolist(): bigint[][] };
    const promptLength = (inputs.input_ids as { dims: number[] }).dims[1]!;
    expect(out.dims[1]).toBeGreaterThan(promptLength);
    expect(out.dims[1]).toBeLessThanOrEqual(promptLength + 6);
    const ids = out.tolist()[0]!.map(Number);
    expect(ids.slice(0, promptLength)).toEqual(tok.encode(prompt));
    expect(ids.every((id) => id >= 0 && id < presetConfig('tiny').vocabSize)).toBe(true);
    await model.dispose();
  });

  it('custom qwen2 shape in bfloat16', async () => {
    const run = makeStageContext(initModel, {
      preset: 'custom', model_type: 'qwen2', hidden_size: 48, intermediate_size: 96, num_hidden_layers: 1,
      num_attention_heads: 6, num_key_value_heads: 2, tie_word_embeddings: true, rope_theta: 1e6, torch_dtype: 'bfloat16', export_onnx: false,
    });
    await initModel.run(run.ctx);
    const m = loadModelDir(run.outDir);
    expect(m.config).toMatchObject({ architecture: 'qwen2', hiddenSize: 48, headDim: 8, numKeyValueHeads: 2, attentionBias: true, tieWordEmbeddings: true, ropeTheta: 1e6, vocabSize: 259, torchDtype: 'bfloat16' });
    expect(m.weights.get('model.layers.0.self_attn.q_proj.bias')!.dtype).toBe('BF16');
  });

  it('trains the tokenizer on the chatml train split and sizes the vocabulary to it', async () => {
    const chatml = tempDir();
    const lines = Array.from({ length: 30 }, (_, i) => chatmlRecord(`r${i}`, `How satisfied are you with service number ${i}?`, `I am fairly satisfied with the service, thank you (${i}).`));
    writeFileSync(join(chatml, 'train.jsonl'), `${lines.join('\n')}\n`);
    const run = makeStageContext(initModel, { preset: 'tiny', export_onnx: false, tokenizer: { train_on: 'chatml', vocab_size: 300 } }, { inputs: [artifact('chatml', chatml)] });
    await initModel.run(run.ctx);
    const m = loadModelDir(run.outDir);
    expect(m.config.vocabSize).toBe(300);
    const tok = await loadTokenizer(run.outDir);
    const text = 'I am fairly satisfied with the service';
    expect(tok.encode(text).length).toBeLessThan(Buffer.byteLength(text) / 2);
    expect(tok.decode(tok.encode(text))).toBe(text);
    expect(run.provenance.tokenizer).toEqual({ kind: 'byte-level', size: 300, merges: 41, trainedOn: 'chatml' });
  });

  it('stops between tensors when the run is cancelled, leaving no partial weight file', async () => {
    const controller = new AbortController();
    const run = makeStageContext(initModel, { preset: 'tiny', export_onnx: false }, { signal: controller.signal });
    const report = run.ctx.progress;
    run.ctx.progress = (done, total, note) => {
      report(done, total, note);
      if (done === 3) controller.abort(new Error('cancelled by test'));
    };
    await expect(initModel.run(run.ctx)).rejects.toThrow('cancelled by test');
    expect(run.progress.at(-1)![0]).toBe(3);
    expect(listFiles(run.outDir).filter((f) => f.includes('safetensors'))).toEqual([]);
  });

  it('refuses bad params with clear errors', async () => {
    expect(() => makeStageContext(initModel, { preset: 'custom', hidden_size: 64 })).toThrow(/intermediate_size/);
    expect(() => makeStageContext(initModel, { preset: 'huge' })).toThrow(UserError);
    const small = makeStageContext(initModel, { preset: 'tiny', vocab_size: 100 });
    await expect(initModel.run(small.ctx)).rejects.toThrow(/vocab_size 100 is smaller than the tokenizer \(259 tokens\)/);
    const heads = makeStageContext(initModel, { preset: 'tiny', num_attention_heads: 4, num_key_value_heads: 3 });
    await expect(initModel.run(heads.ctx)).rejects.toThrow(/init-model params: num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/);
    const noInput = makeStageContext(initModel, { tokenizer: { train_on: 'chatml' } });
    await expect(initModel.run(noInput.ctx)).rejects.toThrow(/needs a "chatml" input; add a stage producing one to its needs/);
    const badLine = tempDir();
    writeFileSync(join(badLine, 'train.jsonl'), `${chatmlRecord('r0', 'a', 'b')}\n{oops\n`);
    const bad = makeStageContext(initModel, { tokenizer: { train_on: 'chatml' } }, { inputs: [artifact('chatml', badLine)] });
    await expect(initModel.run(bad.ctx)).rejects.toThrow(/train\.jsonl:2: not valid JSON/);
  });
});
