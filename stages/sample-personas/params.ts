import { isAbsolute, resolve } from 'node:path';

/** The `with:` params of the sample-personas stage, validated against params.schema.json (defaults filled). */
export interface SamplePersonasParams {
  source: 'synthetic' | 'personahub' | 'file';
  count: number;
  records: number | null;
  seed: number | null;
  bank: string | null;
  path: string | null;
  hub: { repo: string; file: string; revision: string; sha256: string | null; cache_dir: string | null };
  targets: null | 'census' | Record<string, Record<string, number>>;
  pool_factor: number;
  quotas: { domains: Record<string, number> | null; types: Record<string, number> | null; single_domain_share: number };
}

/** A user path from params, resolved against the pipeline directory. */
export function resolveUserPath(path: string, pipelineDir: string): string {
  return isAbsolute(path) ? path : resolve(pipelineDir, path);
}
