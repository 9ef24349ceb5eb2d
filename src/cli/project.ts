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

/**
 * The store: runs/ (see runsDir), with the cache in $POLYPERSONA_CACHE_DIR, else the pipeline's
 * `cache_dir:`, else runs/cache. A cache of its own can sit on a filesystem cluster nodes share.
 */
export function openStore(io: CliIO, flag: string | undefined, pipeline?: { cacheDir?: string }): ArtifactStore {
  const env = io.env.POLYPERSONA_CACHE_DIR;
  const cacheDir = env ? resolve(io.cwd, env) : pipeline?.cacheDir;
  return new ArtifactStore(runsDir(io, flag), cacheDir === undefined ? {} : { cacheDir });
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

/**
 * Loads and checks a pipeline. When the runs folder exists (`runsDirFlag` as for openStore), its
 * `index/pipelines/` keeps parsed copies, so an unchanged pipeline is not parsed again (a cached
 * run of 1,000 stages would otherwise spend most of its time in the YAML parser). The copies are
 * named by content, so any runs folder gives the same result; none is created just for them.
 */
export function openPipeline(io: CliIO, given: string | undefined, runsDirFlag?: string): LoadedPipeline {
  const runs = runsDir(io, runsDirFlag);
  const parsedCacheDir = existsSync(runs) ? join(runs, 'index', 'pipelines') : undefined;
  return loadPipeline(pipelinePath(io, given), stageRegistry(), { parsedCacheDir });
}

/** openPipeline, or undefined when the pipeline does not load now (watch reports that itself). */
export function tryOpenPipeline(io: CliIO, given: string | undefined, runsDirFlag?: string): LoadedPipeline | undefined {
  try {
    return openPipeline(io, given, runsDirFlag);
  } catch (err) {
    if (err instanceof UserError) return undefined;
    throw err;
  }
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
