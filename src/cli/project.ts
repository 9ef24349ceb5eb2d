import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { builtinRegistry } from '../../stages/index.js';
import { loadPipeline, type LoadedPipeline } from '../engine/pipeline/index.js';
import type { StageRegistry } from '../engine/registry.js';
import { ArtifactStore } from '../engine/store/index.js';
import { UserError } from '../core/errors.js';
import type { CliIO } from './io.js';

/** Pipeline files tried, in order, when a command is given none. */
const DEFAULT_PIPELINES = ['polypersona.yaml', 'pipeline.yaml', 'pipelines/smoke.yaml'];

/**
 * The runs folder (cache, work, history): `--runs-dir`, else $POLYPERSONA_RUNS_DIR, else
 * `runs/` in the current folder — like DVC, the folder you run from is the project.
 */
export function runsDir(io: CliIO, flag: string | undefined): string {
  const chosen = flag ?? io.env.POLYPERSONA_RUNS_DIR ?? 'runs';
  return isAbsolute(chosen) ? chosen : resolve(io.cwd, chosen);
}

export function openStore(io: CliIO, flag: string | undefined): ArtifactStore {
  return new ArtifactStore(runsDir(io, flag));
}

export function pipelinePath(io: CliIO, given: string | undefined): string {
  if (given) {
    const path = resolve(io.cwd, given);
    if (!existsSync(path)) throw new UserError('no-pipeline', `pipeline file ${given} does not exist`, { location: { file: path } });
    return path;
  }
  for (const candidate of DEFAULT_PIPELINES) {
    const path = join(io.cwd, candidate);
    if (existsSync(path)) return path;
  }
  const listed = existsSync(join(io.cwd, 'pipelines'))
    ? readdirSync(join(io.cwd, 'pipelines')).filter((f) => f.endsWith('.yaml') && !f.endsWith('.lock.yaml'))
    : [];
  throw new UserError(
    'no-pipeline',
    `no pipeline file given and none of ${DEFAULT_PIPELINES.join(', ')} exists here${listed.length ? `; try one of: ${listed.map((f) => `pipelines/${f}`).join(', ')}` : ''}`,
  );
}

let registry: StageRegistry | undefined;
export function stageRegistry(): StageRegistry {
  return (registry ??= builtinRegistry());
}

export function openPipeline(io: CliIO, given: string | undefined): LoadedPipeline {
  return loadPipeline(pipelinePath(io, given), stageRegistry());
}

/** Lock files gc keeps alive: those beside pipelines in the project and in pipelines/. */
export function projectLockFiles(io: CliIO): string[] {
  const found: string[] = [];
  for (const dir of [io.cwd, join(io.cwd, 'pipelines')]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.lock.yaml')) found.push(join(dir, f));
  }
  return found;
}
