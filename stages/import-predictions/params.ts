import { isAbsolute, resolve } from 'node:path';

/** The `with:` params of the import-predictions stage, validated against params.schema.json (defaults filled). */
export interface ImportPredictionsParams {
  path: string;
  fields: { id: string; prediction: string; reference: string };
  max_rejected_share: number;
}

/** The predictions file, resolved against the pipeline's folder. */
export function predictionsPath(params: ImportPredictionsParams, pipelineDir: string): string {
  return isAbsolute(params.path) ? params.path : resolve(pipelineDir, params.path);
}
