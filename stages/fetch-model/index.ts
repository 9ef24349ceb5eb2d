import type { StageContext, StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';
import type { FetchModelParams } from './params.js';

/** `fetch-model`: a hub model repo, pinned to a commit, as a model dir (file sha256s in stage.json). */
const fetchModel: StageDefinition<FetchModelParams> = {
  type: 'fetch-model',
  version: 1,
  description: 'Download a model from the Hugging Face hub (HF_ENDPOINT/HF_TOKEN/HF_HOME) into a model dir, pinned to a commit',
  produces: 'model',
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  async run(ctx: StageContext<FetchModelParams>) {
    const { runFetchModel } = await import('./run.js');
    await runFetchModel(ctx);
  },
};

export default fetchModel;
