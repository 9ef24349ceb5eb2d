import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';
import { predictionsPath, type ImportPredictionsParams } from './params.js';

/**
 * Brings predictions made outside this project into a pipeline, so the `score` stage scores them
 * like this project's and a `report` puts them beside its runs. With a dataset in `needs:` (an
 * import-dataset or build-chatml stage of the same data), each record gets its domain, question
 * type, question, question id and scale from it by id, which the survey metrics need.
 */
const stage: StageDefinition<ImportPredictionsParams> = {
  type: 'import-predictions',
  version: 1,
  description: "Imports a predictions JSONL made elsewhere (another lab's, the public replication's), joined by id to a dataset for question, type and scale; score it like this project's runs",
  produces: 'predictions',
  consumes: { dataset: { kinds: ['responses', 'chatml'], optional: true } },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  fileDeps: (params, pipelineDir) => [predictionsPath(params, pipelineDir)],
  async run(ctx) {
    const { runImportPredictions } = await import('./run.js');
    await runImportPredictions(ctx);
  },
};

export default stage;
