/** A tiny model dir on disk (preset `tiny` shape, byte-level tokenizer), made by M1's writers. */
import { join } from 'node:path';
import { writeModelDir } from '../../../src/model/model-dir.js';
import { initLlamaWeights } from '../../../src/model/init/index.js';
import { presetConfig } from '../../../src/model/presets.js';
import { byteLevelTokenizerFiles } from '../../../src/model/tokenizer/index.js';
import type { LlamaConfig } from '../../../src/model/config.js';
import { tempDir } from '../../helpers/stage-context.js';

export function tinyModelDir(overrides: Partial<LlamaConfig> = {}, seed = 5): { dir: string; cfg: LlamaConfig } {
  const cfg = { ...presetConfig('tiny'), numHiddenLayers: 1, maxPositionEmbeddings: 256, ...overrides };
  const dir = join(tempDir('pp-model-'), 'model');
  // A wider init than HF's 0.02 so that sampled text is not uniform noise and errors show.
  writeModelDir(dir, cfg, initLlamaWeights(cfg, seed, { initializerRange: 0.1 }), byteLevelTokenizerFiles({}));
  return { dir, cfg };
}
