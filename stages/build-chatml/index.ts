import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';

export interface BuildChatmlParams {
  split: { train: number; val: number; test: number };
  seed: number | null;
  persona_disjoint: boolean;
  preserve_splits: boolean;
  system_prompt: string | null;
  chat_template: 'auto' | 'native' | 'chatml';
  report: boolean;
}

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
