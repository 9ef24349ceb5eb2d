import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors.js';
import { encoderConfigFromDir, loadBertWeights } from '../../../src/model/bert/model-dir.js';
import { tempDir as makeTempDir } from '../../helpers/stage-context.js';

const made: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = makeTempDir(prefix);
  made.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('BERT model dir', () => {
  it('reports bad model dirs clearly', () => {
    const dir = tempDir('pp-bad-');
    expect(() => encoderConfigFromDir(dir, 1)).toThrow(/no config.json/);
    writeFileSync(join(dir, 'config.json'), '{"model_type": "bert",');
    expect(() => encoderConfigFromDir(dir, 1)).toThrow(DataError);
    expect(() => encoderConfigFromDir(dir, 1)).toThrow(/config\.json: not valid JSON/);
    writeFileSync(join(dir, 'config.json'), 'null');
    expect(() => encoderConfigFromDir(dir, 1)).toThrow(/config\.json: must be a JSON object/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'llama' }));
    expect(() => encoderConfigFromDir(dir, 1)).toThrow(DataError);
    expect(() => encoderConfigFromDir(dir, 1)).toThrow(/not a BERT\/RoBERTa encoder/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: 8, num_attention_heads: 2, intermediate_size: 8, num_hidden_layers: 2, max_position_embeddings: 16 }));
    expect(() => encoderConfigFromDir(dir, 5)).toThrow(/num_layers 5/);
  });

  it('names a dir without model.safetensors', async () => {
    await expect(loadBertWeights(tempDir('pp-bert-'), 'bert.')).rejects.toThrow(/no model\.safetensors/);
  });
});
