import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Prng } from '../../../src/core/prng.js';
import { linearPath, linearShape } from '../../../src/model/architectures/llama.js';
import { TextGenerator, generateText } from '../../../src/model/generate/generator.js';
import { writeOnnxModelDir } from '../../../src/model/decoder/export.js';
import { loadModelDir } from '../../../src/model/model-dir.js';
import { argmax } from '../../../src/model/generate/sampling.js';
import { referenceLogits } from '../../../src/model/reference/llama.js';
import { writeSafetensors } from '../../../src/model/safetensors/index.js';
import type { HostTensor } from '../../../src/model/tensor.js';
import { tempDir } from '../../helpers/stage-context.js';
import { tinyModelDir } from '../llama/model-dir-fixture.js';

const { dir: modelDir } = tinyModelDir();
const loaded = loadModelDir(modelDir);
const greedy = { doSample: false, temperature: 1, topK: 0, topP: 1, seed: 0 };

/** Greedy continuation by the float64 reference, recomputing the whole prefix each step. */
function referenceGreedy(weights: Map<string, HostTensor>, prompt: number[], n: number): number[] {
  const ids = [...prompt];
  const V = loaded.config.vocabSize;
  for (let i = 0; i < n; i++) {
    const logits = referenceLogits(loaded.config, weights, ids);
    ids.push(argmax(logits.subarray((ids.length - 1) * V, ids.length * V)));
  }
  return ids.slice(prompt.length);
}

/** A PEFT adapter dir with random A and B on q_proj and down_proj. */
function writeAdapter(r = 4, alpha = 8): { dir: string; merged: Map<string, HostTensor> } {
  const dir = tempDir('pp-adapter-');
  const prng = new Prng(21);
  const tensors = new Map<string, HostTensor>();
  const merged = new Map(loaded.weights);
  for (let l = 0; l < loaded.config.numHiddenLayers; l++)
    for (const m of ['q_proj', 'down_proj'] as const) {
      const [out, inDim] = linearShape(loaded.config, m);
      const A = Float32Array.from({ length: r * inDim }, () => 0.3 * prng.normal());
      const B = Float32Array.from({ length: out * r }, () => 0.3 * prng.normal());
      const path = linearPath(l, m);
      tensors.set(`base_model.model.${path}.lora_A.weight`, { dtype: 'F32', shape: [r, inDim], data: A });
      tensors.set(`base_model.model.${path}.lora_B.weight`, { dtype: 'F32', shape: [out, r], data: B });
      const W = Float32Array.from(loaded.weights.get(`${path}.weight`)!.data as Float32Array);
      for (let o = 0; o < out; o++)
        for (let i = 0; i < inDim; i++) {
          let s = 0;
          for (let k = 0; k < r; k++) s += B[o * r + k]! * A[k * inDim + i]!;
          W[o * inDim + i] += (alpha / r) * s;
        }
      merged.set(`${path}.weight`, { dtype: 'F32', shape: [out, inDim], data: W });
    }
  writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors);
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r, lora_alpha: alpha, target_modules: ['q_proj', 'down_proj'], task_type: 'CAUSAL_LM' }));
  return { dir, merged };
}

describe('TextGenerator', async () => {
  const gen = await TextGenerator.load(modelDir, { threads: 1 });
  afterAll(() => gen.release());
  const prompts = [gen.encodeChat([{ role: 'user', content: 'Hi there' }]), gen.encodeText('abc'), gen.encodeText('The survey question is long')];

  it('greedy with the KV cache equals the float64 reference, recomputed from scratch each step', async () => {
    const [res] = await gen.generate([{ ids: prompts[0]! }], { ...greedy, maxNewTokens: 6 });
    // Random weights rarely emit EOS; if they do, compare the prefix before it.
    const ref = referenceGreedy(loaded.weights, prompts[0]!, 6);
    expect(res!.tokens).toEqual(ref.slice(0, res!.tokens.length));
    expect(res!.promptTokens).toBe(prompts[0]!.length);
    expect(res!.completionTokens).toBe(res!.tokens.length);
  });

  it('a left-padded batch gives every row the text it gets alone', async () => {
    const requests = prompts.map((ids, i) => ({ ids, label: `r${i}` }));
    const batched = await gen.generate(requests, { ...greedy, maxNewTokens: 5, batchSize: 3 });
    for (let i = 0; i < requests.length; i++) {
      const [alone] = await gen.generate([requests[i]!], { ...greedy, maxNewTokens: 5, batchSize: 1 });
      expect(batched[i]!.tokens).toEqual(alone!.tokens);
    }
  });

  it('sampling: same seed gives the same text, another seed another text', async () => {
    const opts = { doSample: true, temperature: 1.5, topK: 0, topP: 1, maxNewTokens: 12 };
    const requests = prompts.map((ids, i) => ({ ids, label: `r${i}` }));
    const a = await gen.generate(requests, { ...opts, seed: 7, batchSize: 2 });
    const b = await gen.generate(requests, { ...opts, seed: 7, batchSize: 2 });
    const c = await gen.generate(requests, { ...opts, seed: 8, batchSize: 2 });
    expect(b.map((r) => r.text)).toEqual(a.map((r) => r.text));
    expect(c.map((r) => r.tokens)).not.toEqual(a.map((r) => r.tokens));
  });

  it('stops at EOS (finish_reason stop) and at max_new_tokens (length)', async () => {
    const [free] = await gen.generate([{ ids: prompts[1]! }], { ...greedy, maxNewTokens: 4 });
    expect(free!.finishReason).toBe('length');
    expect(free!.tokens).toHaveLength(4);
    const stopId = free!.tokens[2]!;
    const firstStop = free!.tokens.indexOf(stopId);
    gen.eosIds.add(stopId);
    try {
      const [stopped] = await gen.generate([{ ids: prompts[1]! }], { ...greedy, maxNewTokens: 4 });
      expect(stopped!.finishReason).toBe('stop');
      expect(stopped!.tokens).toEqual(free!.tokens.slice(0, firstStop));
    } finally {
      gen.eosIds.delete(stopId);
    }
  });

  it('rejects bad options', async () => {
    await expect(gen.generate([{ ids: prompts[0]! }], { ...greedy, maxNewTokens: 0 })).rejects.toThrow(/max_new_tokens/);
    await expect(gen.generate([{ ids: [] }], { ...greedy, maxNewTokens: 2 })).rejects.toThrow(/empty prompt/);
  });
});

describe('LoRA adapters and quantized models', () => {
  it('a PEFT adapter as side branches equals the reference on merged weights W + (α/r)·B·A', async () => {
    const { dir, merged } = writeAdapter();
    const gen = await TextGenerator.load(modelDir, { threads: 1, adapterDir: dir });
    expect(gen.info.adapter).toMatchObject({ r: 4, loraAlpha: 8, modules: 2 });
    const prompt = gen.encodeText('persona');
    const [res] = await gen.generate([{ ids: prompt }], { ...greedy, maxNewTokens: 5 });
    const ref = referenceGreedy(merged, prompt, 5);
    expect(res!.tokens).toEqual(ref.slice(0, res!.tokens.length));
    expect(referenceGreedy(loaded.weights, prompt, 5)).not.toEqual(ref); // the adapter matters
    await gen.release();
  });

  it('bad adapters fail naming the file', async () => {
    const missing = tempDir();
    await expect(TextGenerator.load(modelDir, { threads: 1, adapterDir: missing })).rejects.toThrow(/adapter_config.json/);
    const { dir } = writeAdapter(4, 8);
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ r: 3, lora_alpha: 8 }));
    await expect(TextGenerator.load(modelDir, { threads: 1, adapterDir: dir })).rejects.toThrow(/adapter_model.safetensors.*expected \[3,/);
  });

  it('a q4 model dir generates end to end, with and without an adapter', async () => {
    const out = join(tempDir(), 'q4');
    writeOnnxModelDir(modelDir, out, { quantization: { bits: 4, blockSize: 32, symmetric: false, accuracyLevel: 0 } });
    const result = await generateText(out, 'Hello', { maxNewTokens: 5 });
    expect(result.completionTokens).toBeGreaterThan(0);
    const { dir } = writeAdapter();
    const gen = await TextGenerator.load(out, { threads: 1, adapterDir: dir });
    expect(gen.info.quantization?.bits).toBe(4);
    const [res] = await gen.generate([{ ids: gen.encodeText('hi') }], { ...greedy, maxNewTokens: 3 });
    expect(res!.tokens.length + (res!.finishReason === 'stop' ? 1 : 0)).toBeGreaterThan(0);
    await gen.release();
  });
});

describe('an empty answer (end-of-sequence as the first token)', () => {
  it('is "" with finish reason stop, not an error; its batch-mates are unaffected', async () => {
    const { eosFirstModelDir } = await import('./eos-first-fixture.js');
    const chat = [{ role: 'user' as const, content: 'question 55' }];
    const { dir, firstTokens } = await eosFirstModelDir([chat]);
    expect(firstTokens).toHaveLength(1);
    const generator = await TextGenerator.load(dir, { threads: 1 });
    try {
      const other = generator.encodeText('Another prompt that starts elsewhere');
      const [empty, rest] = await generator.generate([{ ids: generator.encodeChat(chat), label: 'a' }, { ids: other, label: 'b' }], { ...greedy, maxNewTokens: 4 });
      expect(empty).toEqual({ tokens: [], text: '', promptTokens: generator.encodeChat(chat).length, completionTokens: 0, finishReason: 'stop' });
      expect(rest!.promptTokens).toBe(other.length);
      expect(generator.decode([])).toBe('');
    } finally {
      await generator.release();
    }
  });
});
