import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';
import { importPaths, type ImportDatasetParams } from './params.js';

const stage: StageDefinition<ImportDatasetParams> = {
  type: 'import-dataset',
  version: 1,
  description: 'Imports an existing PolyPersona-format dataset (JSON or JSONL, one file or splits), tolerating schema variations; rejected records are listed',
  produces: 'responses',
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  fileDeps: (params, pipelineDir) => importPaths(params, pipelineDir),
  async run(ctx) {
    const { runImportDataset } = await import('./run.js');
    await runImportDataset(ctx);
  },
};

export default stage;
