import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bertScoreFromModelDir } from '../../../src/metrics/bertscore/from-model-dir.js';
import { randomBertWeights } from '../../../src/model/bert/random-weights.js';
import { writeSafetensors } from '../../../src/model/safetensors/write.js';
import { byteLevelTokenizerFiles, byteLevelVocabSize, writeTokenizerFiles } from '../../../src/model/tokenizer/index.js';
import { tempDir } from '../../helpers/stage-context.js';

/** A tiny RoBERTa-style model dir made by code: byte-level tokenizer, random weights. */
function tinyModelDir(): string {
  const dir = tempDir('pp-bert-');
  const vocab = byteLevelVocabSize({});
  const cfg = { hiddenSize: 16, numHeads: 2, intermediateSize: 32, layers: 2, layerNormEps: 1e-5, positionOffset: 2 };
  const weights = new Map([...randomBertWeights(cfg, { vocab, positions: 130 }, 9)].map(([k, v]) => [`roberta.${k}`, v]));
  writeSafetensors(join(dir, 'model.safetensors'), weights);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'roberta', hidden_size: 16, num_attention_heads: 2, intermediate_size: 32, num_hidden_layers: 2, layer_norm_eps: 1e-5, pad_token_id: 1, max_position_embeddings: 130, hidden_act: 'gelu' }));
  writeTokenizerFiles(dir, byteLevelTokenizerFiles({}));
  return dir;
}

describe('bertScoreFromModelDir', () => {
  it('scores identical texts 1 and different texts below 1, deterministically', async () => {
    const dir = tinyModelDir();
    const score = await bertScoreFromModelDir(dir, { numLayers: 2, idf: false, threads: 1 });
    const a = await score(['I save every month.', 'Hello there.'], ['I save every month.', 'Completely different words!']);
    expect(Math.abs(a[0]!.f1 - 1)).toBeLessThan(1e-6);
    expect(a[1]!.f1).toBeLessThan(1);
    const b = await score(['I save every month.', 'Hello there.'], ['I save every month.', 'Completely different words!']);
    expect(b).toEqual(a);
  });
});
