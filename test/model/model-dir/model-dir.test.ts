import { describe, expect, it } from 'vitest';
import { readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../../src/core/errors.js';
import type { LlamaConfig } from '../../../src/model/config.js';
import { initLlamaWeights } from '../../../src/model/init/index.js';
import { inspectModelDir, loadModelDir, openModelWeights, writeModelDir } from '../../../src/model/model-dir.js';
import { formatCount, formatModelInfo, modelInfo } from '../../../src/model/model-info.js';
import { parameterCount, presetConfig, tinyOf } from '../../../src/model/presets.js';
import { writeSafetensors } from '../../../src/model/safetensors/index.js';
import { byteLevelTokenizerFiles } from '../../../src/model/tokenizer/index.js';
import { tempDir } from '../../helpers/stage-context.js';

const small: LlamaConfig = { ...presetConfig('tiny'), hiddenSize: 32, intermediateSize: 48, headDim: 8, numHiddenLayers: 2 };

function makeDir(cfg: LlamaConfig = small, options: { maxShardBytes?: number } = {}): string {
  const dir = tempDir();
  writeModelDir(dir, cfg, initLlamaWeights(cfg, 1), byteLevelTokenizerFiles({}), options);
  return dir;
}

function editConfig(dir: string, edit: (c: Record<string, unknown>) => void): void {
  const path = join(dir, 'config.json');
  const c = JSON.parse(readFileSync(path, 'utf8'));
  edit(c);
  writeFileSync(path, JSON.stringify(c));
}

function expectError(fn: () => unknown, ...patterns: Array<string | RegExp>): void {
  let caught: unknown;
  try { fn(); } catch (err) { caught = err; }
  expect(caught).toBeInstanceOf(DataError);
  for (const p of patterns) expect((caught as Error).message).toMatch(p);
}

describe('model dirs', () => {
  it('writes a HF model dir and loads it back identically', () => {
    const dir = makeDir();
    const m = loadModelDir(dir);
    expect(m.config).toEqual(small);
    expect(m.files).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const original = initLlamaWeights(small, 1);
    expect([...m.weights.keys()]).toEqual([...original.keys()]);
    for (const [name, t] of original) expect(Array.from(m.weights.get(name)!.data as Float32Array), name).toEqual(Array.from(t.data as Float32Array));
    const gen = JSON.parse(readFileSync(join(dir, 'generation_config.json'), 'utf8'));
    expect(gen).toEqual({ bos_token_id: 0, eos_token_id: 2, pad_token_id: 0 });
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).architectures).toEqual(['LlamaForCausalLM']);
  });

  it('shards large checkpoints and reads them back, one weight at a time too', () => {
    const dir = makeDir(small, { maxShardBytes: 20_000 });
    const m = inspectModelDir(dir);
    expect(m.files).toContain('model.safetensors.index.json');
    expect(new Set([...m.weightIndex.values()].map((l) => l.file)).size).toBeGreaterThan(2);
    const reader = openModelWeights(m);
    const w = reader.read('model.layers.1.mlp.down_proj.weight');
    reader.close();
    expect(Array.from(w.data as Float32Array)).toEqual(Array.from(initLlamaWeights(small, 1).get('model.layers.1.mlp.down_proj.weight')!.data as Float32Array));
  });

  it('names config.json when it is missing, malformed, lacks a key or has another architecture', () => {
    const dir = makeDir();
    editConfig(dir, (c) => delete c.hidden_size);
    expectError(() => loadModelDir(dir), /config\.json/, /hidden_size/);
    editConfig(dir, (c) => { c.hidden_size = 32; c.model_type = 'gpt2'; });
    expectError(() => loadModelDir(dir), /config\.json/, /gpt2.*not supported/);
    writeFileSync(join(dir, 'config.json'), '{ not json');
    expectError(() => loadModelDir(dir), /config\.json: not valid JSON/);
    rmSync(join(dir, 'config.json'));
    expectError(() => loadModelDir(dir), /config\.json: cannot read/);
  });

  it('names the weight file and tensor on a shape mismatch between config and weights', () => {
    const dir = makeDir();
    editConfig(dir, (c) => (c.intermediate_size = 64));
    expectError(() => loadModelDir(dir), /model\.safetensors: weight "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[48, 32\] but config\.json implies \[64, 32\]/);
  });

  it('names a weight the config needs but the checkpoint lacks', () => {
    const dir = makeDir({ ...small, tieWordEmbeddings: true });
    editConfig(dir, (c) => (c.tie_word_embeddings = false));
    expectError(() => loadModelDir(dir), /"lm_head\.weight".*not in the checkpoint \(model\.safetensors\)/);
  });

  it('names a truncated safetensors file', () => {
    const dir = makeDir();
    const path = join(dir, 'model.safetensors');
    truncateSync(path, statSync(path).size - 100);
    expectError(() => loadModelDir(dir), new RegExp(`${path}:`));
  });

  it('names a missing tokenizer file, unless the caller does not need one', () => {
    const dir = makeDir();
    rmSync(join(dir, 'tokenizer.json'));
    expectError(() => loadModelDir(dir), /tokenizer\.json: tokenizer file missing/);
    expect(loadModelDir(dir, { requireTokenizer: false }).config).toEqual(small);
  });

  it('refuses integer weights and a missing directory', () => {
    const dir = makeDir();
    const weights = initLlamaWeights(small, 1);
    weights.set('model.norm.weight', { dtype: 'I32', shape: [32], data: new Int32Array(32) });
    writeSafetensors(join(dir, 'model.safetensors'), weights);
    expectError(() => loadModelDir(dir), /"model\.norm\.weight" has dtype I32/);
    expectError(() => loadModelDir(join(dir, 'nope')), /nope: model directory does not exist/);
  });

  it('modelInfo reports shape, parameters, dtypes and files', () => {
    const cfg = { ...small, architecture: 'qwen2' as const, attentionBias: true };
    const dir = makeDir(cfg);
    const info = modelInfo(dir);
    expect(info.architecture).toBe('qwen2');
    expect(info.architectureClass).toBe('Qwen2ForCausalLM');
    expect(info.parameters).toBe(parameterCount(cfg));
    expect(info.dtypes).toEqual({ F32: parameterCount(cfg) });
    expect(info.weightBytes).toBe(4 * parameterCount(cfg));
    expect(info.files.find((f) => f.name === 'model.safetensors')!.bytes).toBe(statSync(join(dir, 'model.safetensors')).size);
    const text = formatModelInfo(info).join('\n');
    expect(text).toContain('qwen2 (Qwen2ForCausalLM)');
    expect(text).toContain('heads 4 (kv 2, head_dim 8)');
  });

  it('modelInfo says what the shape line does not: an MoE\'s experts and active parameters, phi\'s partial rotary', () => {
    const moe = { ...tinyOf('qwen2_moe'), numHiddenLayers: 1 };
    const info = modelInfo(makeDir(moe));
    // A token runs 2 of the 4 experts: the other two's 3 projections [64 × 128] are idle.
    expect(formatModelInfo(info).join('\n')).toContain('experts 4 of width 64, top 2, shared expert 128');
    expect(formatModelInfo(info).join('\n')).toContain(`active      ${formatCount(parameterCount(moe) - 2 * 3 * 128 * 64)} parameters per token`);
    const phi = { ...tinyOf('phi'), numHiddenLayers: 1 };
    expect(formatModelInfo(modelInfo(makeDir(phi))).join('\n')).toContain('partial rotary 0.4 (12 of 32 features), LayerNorm eps 0.00001, parallel attention and MLP');
  });
});
