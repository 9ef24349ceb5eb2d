import { isAbsolute, resolve } from 'node:path';
import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';

export interface ImportDatasetParams {
  path: string | string[];
  format: 'auto' | 'json' | 'jsonl';
  max_rejected_share: number;
}

export function importPaths(params: ImportDatasetParams, pipelineDir: string): string[] {
  const list = Array.isArray(params.path) ? params.path : [params.path];
  return list.map((p) => (isAbsolute(p) ? p : resolve(pipelineDir, p)));
}

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
