import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';
import type { GenerateParams } from './params.js';

const stage: StageDefinition<GenerateParams> = {
  type: 'generate',
  version: 3, // 2: prediction records carry question_id, question and scale (src/formats/predictions.ts); 3: sampling draws by Gumbel-max (model/generate/sampling.ts), generation-stats.json without the thread count
  description: 'Answers a ChatML split with a model (+ optional LoRA adapter): sampled or greedy, batched on the KV cache; writes predictions.jsonl',
  reproducibility: 'float',
  produces: 'predictions',
  consumes: {
    data: { kinds: ['chatml'] },
    model: { kinds: ['model'], transitive: true },
    adapter: { kinds: ['adapter'], optional: true },
  },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  exclusive: true,
  async run(ctx) {
    const { runGenerate } = await import('./run.js');
    await runGenerate(ctx);
  },
};

export default stage;
