import type { StageContext, StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';
import type { InitModelParams } from './params.js';

/**
 * `init-model`: a Hugging Face model dir with seeded random weights for a shape of any registered
 * architecture (llama, mistral, qwen2, phi, qwen2_moe), a byte-level BPE tokenizer (optionally trained on the pipeline's own text) with a ChatML
 * chat template, and (by default) the float32 ONNX graph beside it.
 */
const initModel: StageDefinition<InitModelParams> = {
  type: 'init-model',
  version: 1,
  description: 'Create a model dir with seeded random weights (presets tiny, small-25m, tinyllama-1.1b, phi-2, qwen1.5-moe-a2.7b, or custom sizes; llama, mistral, qwen2, phi or qwen2_moe) and a byte-level ChatML tokenizer',
  produces: 'model',
  consumes: { corpus: { kinds: ['chatml', 'responses'], optional: true } },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  async run(ctx: StageContext<InitModelParams>) {
    const { runInitModel } = await import('./run.js');
    await runInitModel(ctx);
  },
};

export default initModel;
