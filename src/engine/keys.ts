import type { PlannedStage } from './pipeline/index.js';
import { digestDeps, stageKey, type StageKeyInputs } from './store/index.js';
import { deriveSeed } from '../core/prng.js';
import { relative, sep, isAbsolute } from 'node:path';

/**
 * What a stage's key is made of, given its upstream output digests. The pipeline seed joins the
 * params under a reserved name, because every stage's PRNG seed is derived from it: a new
 * pipeline seed must give new keys even where no param mentions it.
 */
export async function stageKeyInputs(
  stage: PlannedStage,
  inputDigests: Record<string, string>,
  pipelineDir: string,
  pipelineSeed: number,
): Promise<StageKeyInputs> {
  const deps = await digestDeps(stage.fileDeps, pipelineDir);
  return {
    type: stage.type,
    version: stage.definition.version,
    params: { ...stage.params, $seed: pipelineSeed },
    inputs: inputDigests,
    deps,
  };
}

export function keyOf(inputs: StageKeyInputs): string {
  return stageKey(inputs);
}

/** The uint32 seed a stage's run() gets: from the pipeline seed and the stage key. */
export function stageSeed(pipelineSeed: number, key: string): number {
  return deriveSeed(pipelineSeed, key);
}

/** A path for messages: relative to the pipeline dir when inside it. */
export function displayPath(path: string, baseDir: string): string {
  const rel = relative(baseDir, path);
  return rel && !rel.startsWith(`..${sep}`) && !isAbsolute(rel) ? rel.split(sep).join('/') : path;
}
