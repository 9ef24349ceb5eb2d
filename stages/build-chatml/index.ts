import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';
import type { BuildChatmlParams } from './params.js';

const stage: StageDefinition<BuildChatmlParams> = {
  type: 'build-chatml',
  version: 3, // 2: exact overall split sizes (controlled rounding across cells); 3: stats.json and the dataset report state the train/val/test overlap
  description: 'ChatML training data: system/user/assistant triplets rendered with the model chat template, stratified train/val/test splits and a dataset report',
  produces: 'chatml',
  consumes: {
    responses: { kinds: ['responses'] },
    model: { kinds: ['model'], optional: true, transitive: true },
  },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  async run(ctx) {
    const { runBuildChatml } = await import('./run.js');
    await runBuildChatml(ctx);
  },
};

export default stage;
