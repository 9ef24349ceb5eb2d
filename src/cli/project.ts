import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, parse, resolve } from 'node:path';
import { builtinRegistry } from '../../stages/index.js';
import { loadPipeline, type LoadedPipeline, type LoadOptions } from '../engine/pipeline/index.js';
import type { StageRegistry } from '../engine/registry.js';
import { ArtifactStore } from '../engine/store/index.js';
import { UserError } from '../core/errors.js';
import type { CliIO } from './io.js';

/** Pipeline files tried, in order, when a command is given none. */
const DEFAULT_PIPELINES = ['polypersona.yaml', 'pipeline.yaml', 'pipelines/smoke.yaml'];

/** What makes a folder a project root. */
const PROJECT_MARKERS = ['runs', 'polypersona.yaml', '.git', 'package.json'];

/**
 * The project a folder belongs to: the nearest folder at or above `start` that holds `runs/`,
 * `polypersona.yaml`, `.git` or `package.json`; else `start` itself. The walk stops below the
 * home folder, the temp folder and the file system root, which are never a project.
 *
 *   ~/study/pipelines/smoke.yaml, ~/study/package.json  → ~/study (runs in ~/study/runs)
 *   /data/p.yaml, no marker up to /                     → /data
 */
export function projectRoot(start: string): string {
  const stops = new Set([parse(resolve(start)).root, resolve(homedir()), resolve(tmpdir())]);
  for (let dir = resolve(start); !stops.has(dir); dir = dirname(dir)) {
    if (PROJECT_MARKERS.some((m) => existsSync(join(dir, m)) && (m !== 'runs' || statSync(join(dir, m)).isDirectory()))) return dir;
    if (dirname(dir) === dir) break;
  }
  return resolve(start);
}

/**
 * The runs folder (cache, work, history): `--runs-dir`, else $POLYPERSONA_RUNS_DIR (both relative
 * to the current folder), else `runs/` in the project of the pipeline (projectRoot of its folder),
 * or of the current folder for commands without one. Running a pipeline from another folder
 * therefore uses the same cache as running it from its project.
 */
export function runsDir(io: CliIO, flag: string | undefined, pipelineFile?: string): string {
  const chosen = flag ?? io.env.POLYPERSONA_RUNS_DIR;
  if (chosen) return isAbsolute(chosen) ? chosen : resolve(io.cwd, chosen);
  return join(projectRoot(pipelineFile ? dirname(resolve(io.cwd, pipelineFile)) : io.cwd), 'runs');
}

/** Where `runs/` goes, for --help texts. */
export const RUNS_DIR_HELP = `cache and run records (default: runs/ in the pipeline's project — the nearest
                    folder at or above the pipeline's that has runs/, polypersona.yaml, .git or
                    package.json, else the pipeline's folder; or $POLYPERSONA_RUNS_DIR)`;

/**
 * The store: runs/ (see runsDir), with the cache in $POLYPERSONA_CACHE_DIR, else the pipeline's
 * `cache_dir:`, else runs/cache. A cache of its own can sit on a filesystem cluster nodes share.
 */
export function openStore(io: CliIO, flag: string | undefined, pipeline?: { file: string; cacheDir?: string }): ArtifactStore {
  const env = io.env.POLYPERSONA_CACHE_DIR;
  const cacheDir = env ? resolve(io.cwd, env) : pipeline?.cacheDir;
  return new ArtifactStore(runsDir(io, flag, pipeline?.file), cacheDir === undefined ? {} : { cacheDir });
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
export function openPipeline(io: CliIO, given: string | undefined, runsDirFlag?: string, loadOptions: Omit<LoadOptions, 'parsedCacheDir'> = {}): LoadedPipeline {
  const file = pipelinePath(io, given);
  const runs = runsDir(io, runsDirFlag, file);
  const parsedCacheDir = existsSync(runs) ? join(runs, 'index', 'pipelines') : undefined;
  return loadPipeline(file, stageRegistry(), { ...loadOptions, parsedCacheDir });
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

/** Lock files gc keeps alive: those beside pipelines in the project (of the current folder) and in its pipelines/. */
export function projectLockFiles(io: CliIO): string[] {
  const found: string[] = [];
  const root = projectRoot(io.cwd);
  for (const dir of [...new Set([io.cwd, root, join(root, 'pipelines')])]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.lock.yaml')) found.push(join(dir, f));
  }
  return found;
}
