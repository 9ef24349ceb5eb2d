import { isAbsolute, join, resolve } from 'node:path';
import type { StageDefinition } from '../../src/engine/contract.js';
import { packageRoot, readJsonAsset } from '../../src/core/paths.js';

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

const stage: StageDefinition<SamplePersonasParams> = {
  type: 'sample-personas',
  version: 1,
  description: 'Persona cards (synthetic, PersonaHub or a file) and a seeded, quota-exact assignment of personas to survey questions',
  produces: 'personas',
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  fileDeps(params, pipelineDir) {
    const deps: string[] = [];
    if (params.bank) deps.push(resolveUserPath(params.bank, pipelineDir));
    else deps.push(join(packageRoot(), 'question-bank'));
    if (params.path && params.source !== 'synthetic') deps.push(resolveUserPath(params.path, pipelineDir));
    return deps;
  },
  async run(ctx) {
    const { runSamplePersonas } = await import('./run.js');
    await runSamplePersonas(ctx);
  },
};

export default stage;
