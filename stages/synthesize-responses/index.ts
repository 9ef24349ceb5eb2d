import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';

export interface SynthesizeResponsesParams {
  teacher: {
    kind: 'template' | 'openai' | 'model';
    conditioning: 'demographics' | 'attitudes';
    base_url: string | null;
    model: string | null;
    api_key_env: string | null;
    concurrency: number;
    max_retries: number;
    timeout_ms: number;
    backoff_ms: number;
    max_backoff_ms: number;
    temperature: number;
    max_tokens: number;
    top_p: number;
    batch_size: number;
  };
  seed: number | null;
  system_prompt: string | null;
  max_failure_share: number;
}

const stage: StageDefinition<SynthesizeResponsesParams> = {
  type: 'synthesize-responses',
  version: 2,
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
