import { join } from 'node:path';
import type { StageDefinition } from '../../src/engine/contract.js';
import { packageRoot, readJsonAsset } from '../../src/core/paths.js';
import { resolveUserPath, type SamplePersonasParams } from './params.js';

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
