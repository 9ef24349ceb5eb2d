/**
 * Texts are encoded as bert-score's sent_encode does: stripped, and for RoBERTa with a space put
 * before them (bert-score's add_prefix_space=True). The interop suite compares the scores with
 * bert-score's algorithm on transformers' RobertaModel; these pin the encoding with a model made
 * here.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bertScoreFromModelDir, stripPython } from '../../../src/metrics/bertscore/from-model-dir.js';
import { encoderConfigFromDir } from '../../../src/model/bert/model-dir.js';
import { randomBertWeights } from '../../../src/model/bert/random-weights.js';
import { writeSafetensors } from '../../../src/model/safetensors/write.js';
import { byteLevelTokenizerFiles, byteLevelVocabSize, writeTokenizerFiles } from '../../../src/model/tokenizer/index.js';
import { tempDir } from '../../helpers/stage-context.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function modelDir(modelType: 'roberta' | 'bert' | 'xlm-roberta'): string {
  const dir = tempDir('pp-sent-encode-');
  dirs.push(dir);
  const cfg = { hiddenSize: 16, numHeads: 2, intermediateSize: 32, layers: 2, layerNormEps: 1e-5, positionOffset: 2 };
  writeSafetensors(join(dir, 'model.safetensors'), randomBertWeights(cfg, { vocab: byteLevelVocabSize({}), positions: 130 }, 4));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: modelType, hidden_size: 16, num_attention_heads: 2, intermediate_size: 32, num_hidden_layers: 2, layer_norm_eps: 1e-5, pad_token_id: 1, max_position_embeddings: 130, hidden_act: 'gelu' }));
  writeTokenizerFiles(dir, byteLevelTokenizerFiles({}));
  return dir;
}

describe("bert-score's sent_encode", () => {
  it('strips what Python strips', () => {
    expect(stripPython('  \t\nI agree.\r\n ')).toBe('I agree.');
    expect(stripPython('\u00a0\u2003x y\u3000')).toBe('x y');
    expect(stripPython('\x1c\x1dx\x1e\x1f\x85')).toBe('x');
    expect(stripPython('   ')).toBe('');
  });

  it('puts a space before RoBERTa texts only (not BERT, not XLM-RoBERTa)', () => {
    expect(encoderConfigFromDir(modelDir('roberta'), 1).spaceBefore).toBe(true);
    expect(encoderConfigFromDir(modelDir('bert'), 1).spaceBefore).toBe(false);
    expect(encoderConfigFromDir(modelDir('xlm-roberta'), 1).spaceBefore).toBe(false);
  });

  it('scores "Hi there" and " Hi there  " as the same text for RoBERTa (both become " Hi there")', async () => {
    const score = await bertScoreFromModelDir(modelDir('roberta'), { numLayers: 2, idf: false, threads: 1 });
    const [same, differs] = await score(['Hi there', 'Hi there'], [' Hi there  ', 'Hi  there']);
    expect(Math.abs(same!.f1 - 1)).toBeLessThan(1e-6);
    expect(differs!.f1).toBeLessThan(0.999);
  });
});
