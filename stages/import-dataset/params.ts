import { isAbsolute, resolve } from 'node:path';

/** The `with:` params of the import-dataset stage, validated against params.schema.json (defaults filled). */
export interface ImportDatasetParams {
  path: string | string[];
  format: 'auto' | 'json' | 'jsonl';
  max_rejected_share: number;
}

export function importPaths(params: ImportDatasetParams, pipelineDir: string): string[] {
  const list = Array.isArray(params.path) ? params.path : [params.path];
  return list.map((p) => (isAbsolute(p) ? p : resolve(pipelineDir, p)));
}
