import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';

import type { PretrainingCorpusParams } from './params.js';

/**
 * The text of a chatml artifact's splits as an UNPAIRED pretraining corpus (src/survey/corpus.ts):
 * persona cards and persona-free question/answer documents, so a base pretrained on it knows the
 * language and formats of the data but not who answered what. Writes a chatml artifact
 * (train/val/test.jsonl, stats.json) that lora-train reads like any other.
 */
const stage: StageDefinition<PretrainingCorpusParams> = {
  type: 'pretraining-corpus',
  version: 2, // 2: persona documents gain a user turn (a ChatML record needs one)
  description: "Unpaired pretraining documents from ChatML splits: each persona card once, each question with its answer but without the persona (a base that knows the data's language, not its persona conditioning)",
  produces: 'chatml',
  consumes: { chatml: { kinds: ['chatml'] } },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  async run(ctx) {
    const { runPretrainingCorpus } = await import('./run.js');
    await runPretrainingCorpus(ctx);
  },
};

export default stage;
