import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';
import type { SynthesizeResponsesParams } from './params.js';

const stage: StageDefinition<SynthesizeResponsesParams> = {
  type: 'synthesize-responses',
  version: 3, // 3: a model teacher samples by Gumbel-max (model/generate/sampling.ts)
  description: 'Reference answers for each persona-question assignment, from a teacher (offline template, an OpenAI-compatible server, or a model input)',
  produces: 'responses',
  consumes: {
    personas: { kinds: ['personas'] },
    // teacher kind "model" only: the model to answer with (transitive: the base behind an adapter).
    model: { kinds: ['model'], optional: true, transitive: true },
    adapter: { kinds: ['adapter'], optional: true },
  },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  async run(ctx) {
    const { runSynthesizeResponses } = await import('./run.js');
    await runSynthesizeResponses(ctx);
  },
};

export default stage;
