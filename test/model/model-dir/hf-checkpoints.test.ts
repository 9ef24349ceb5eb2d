/**
 * Model dirs as transformers itself writes them (fixtures made here by code; the interop suite
 * checks the real thing against Python): transformers 5 config keys, tied embeddings with or
 * without a saved LM head, stray buffers, and tensors of variants the graph does not build.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../../src/core/errors.js';
import type { LlamaConfig } from '../../../src/model/config.js';
import { initLlamaWeights } from '../../../src/model/init/index.js';
import { inspectModelDir, loadModelDir, writeModelDir } from '../../../src/model/model-dir.js';
import { presetConfig } from '../../../src/model/presets.js';
import { readSafetensors, writeSafetensors } from '../../../src/model/safetensors/index.js';
import type { HostTensor } from '../../../src/model/tensor.js';
import { byteLevelTokenizerFiles } from '../../../src/model/tokenizer/index.js';
import { tempDir } from '../../helpers/stage-context.js';

const small: LlamaConfig = { ...presetConfig('tiny'), hiddenSize: 32, intermediateSize: 48, headDim: 8, numHiddenLayers: 1 };
const made: string[] = [];
afterEach(() => made.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function makeDir(cfg: LlamaConfig): string {
  const dir = tempDir();
  made.push(dir);
  writeModelDir(dir, cfg, initLlamaWeights(cfg, 3), byteLevelTokenizerFiles({}));
  return dir;
}

/** Rewrites model.safetensors with `add` tensors added. */
function addTensors(dir: string, add: Record<string, HostTensor>): void {
  const path = join(dir, 'model.safetensors');
  const tensors = new Map(readSafetensors(path).tensors);
  for (const [name, t] of Object.entries(add)) tensors.set(name, t);
  writeSafetensors(path, tensors);
}

function editConfig(dir: string, edit: (c: Record<string, unknown>) => void): void {
  const path = join(dir, 'config.json');
  const c = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(c);
  writeFileSync(path, JSON.stringify(c));
}

const f32 = (shape: number[]): HostTensor => ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });

describe('model dirs written by transformers', () => {
  it('reads a transformers 5 config.json (rope_parameters, dtype)', () => {
    const dir = makeDir(small);
    editConfig(dir, (c) => {
      c.rope_parameters = { rope_theta: 1e6, rope_type: 'default' };
      delete c.rope_theta;
      c.dtype = 'float32';
      delete c.torch_dtype;
    });
    const m = inspectModelDir(dir);
    expect(m.config.ropeTheta).toBe(1e6);
    expect(m.config.torchDtype).toBe('float32');
  });

  it('ignores rotary inv_freq buffers and an LM head saved beside tied embeddings', () => {
    const dir = makeDir({ ...small, tieWordEmbeddings: true });
    addTensors(dir, { 'model.layers.0.self_attn.rotary_emb.inv_freq': f32([4]), 'lm_head.weight': f32([small.vocabSize, small.hiddenSize]) });
    const m = loadModelDir(dir);
    expect(m.extraTensors).toEqual(['lm_head.weight', 'model.layers.0.self_attn.rotary_emb.inv_freq']);
    expect(m.weights.has('lm_head.weight')).toBe(false);
  });

  it('refuses a tensor of a variant the graph does not build (an o_proj bias, an MLP bias) instead of dropping it', () => {
    for (const name of ['model.layers.0.self_attn.o_proj.bias', 'model.layers.0.mlp.up_proj.bias']) {
      const dir = makeDir(small);
      addTensors(dir, { [name]: f32([name.includes('o_proj') ? small.hiddenSize : small.intermediateSize]) });
      let caught: unknown;
      try {
        inspectModelDir(dir);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(DataError);
      expect((caught as DataError).code).toBe('unexpected-weight');
      expect((caught as Error).message).toBe(
        `${join(dir, 'model.safetensors')}: weight "${name}" is not part of a llama model as config.json describes it (a variant this project does not build, e.g. an o_proj or MLP bias); refusing to drop it silently`,
      );
    }
  });
});
