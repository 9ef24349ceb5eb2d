import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';

export interface GenerateParams {
  split: 'train' | 'val' | 'test';
  do_sample: boolean;
  temperature: number;
  top_p: number;
  top_k: number;
  max_new_tokens: number;
  batch_size: number;
  limit: number | null;
  seed: number | null;
}

const stage: StageDefinition<GenerateParams> = {
  type: 'generate',
  version: 1,
  description: 'Answers a ChatML split with a model (+ optional LoRA adapter): sampled or greedy, batched on the KV cache; writes predictions.jsonl',
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
