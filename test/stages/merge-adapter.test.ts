import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.js';
import { presetConfig } from '../../src/model/presets.js';
import { initLlamaWeights } from '../../src/model/init/index.js';
import { loadModelDir, writeModelDir } from '../../src/model/model-dir.js';
import { byteLevelTokenizerFiles } from '../../src/model/tokenizer/index.js';
import { writeAdapter } from '../../src/train/adapter.js';
import { loraSites, type LoraConfig } from '../../src/train/lora.js';
import stage from '../../stages/merge-adapter/index.js';
import { artifact, makeStageContext, tempDir } from '../helpers/stage-context.js';

describe('merge-adapter stage', () => {
  const root = tempDir('pp-merge-');
  const cfg = { ...presetConfig('tiny'), numHiddenLayers: 1 };
  const modelDir = join(root, 'model');
  writeModelDir(modelDir, cfg, initLlamaWeights(cfg, 2), byteLevelTokenizerFiles({}));
  const lora: LoraConfig = { r: 2, lora_alpha: 6, lora_dropout: 0, target_modules: ['q_proj', 'down_proj'] };
  const sites = loraSites(cfg, lora);
  const prng = new Prng(4);
  const params = sites.map((s) => ({
    A: Float32Array.from({ length: 2 * s.inDim }, () => prng.next() - 0.5),
    B: Float32Array.from({ length: s.outDim * 2 }, () => prng.next() - 0.5),
  }));
  const adapterDir = join(root, 'adapter');
  mkdirSync(adapterDir);
  writeAdapter(adapterDir, lora, sites, params, 'tiny');

  it('adds (lora_alpha / r) · B · A to the adapted weights and leaves the others unchanged', async () => {
    const run = makeStageContext(stage, {}, { inputs: [artifact('model', modelDir, 'base'), artifact('adapter', adapterDir, 'adapter')] });
    await stage.run(run.ctx);
    const before = loadModelDir(modelDir).weights, after = loadModelDir(run.outDir).weights;
    sites.forEach((s, i) => {
      const W = before.get(`${s.path}.weight`)!.data as Float32Array, M = after.get(`${s.path}.weight`)!.data as Float32Array;
      for (const [o, c] of [[0, 0], [s.outDim - 1, s.inDim - 1], [3, 7]] as const) {
        let dot = 0;
        for (let k = 0; k < 2; k++) dot += params[i]!.B[o * 2 + k]! * params[i]!.A[k * s.inDim + c]!;
        expect(M[o * s.inDim + c]).toBeCloseTo(W[o * s.inDim + c]! + 3 * dot, 6);
      }
    });
    expect(Buffer.from((after.get('model.layers.0.self_attn.k_proj.weight')!.data as Float32Array).buffer).equals(Buffer.from((before.get('model.layers.0.self_attn.k_proj.weight')!.data as Float32Array).buffer))).toBe(true);
    expect(readFileSync(join(run.outDir, 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8'));
  });

  it('rejects an adapter whose shapes do not match the base', async () => {
    const other = { ...cfg, hiddenSize: 64, intermediateSize: 96, headDim: 16 };
    const otherDir = join(root, 'other');
    writeModelDir(otherDir, other, initLlamaWeights(other, 2), byteLevelTokenizerFiles({}));
    const run = makeStageContext(stage, {}, { inputs: [artifact('model', otherDir, 'base'), artifact('adapter', adapterDir, 'adapter')] });
    await expect(stage.run(run.ctx)).rejects.toThrow(/q_proj\.lora_A\.weight has shape \[2, 128\], expected \[2, 64\]/);
  });
});
