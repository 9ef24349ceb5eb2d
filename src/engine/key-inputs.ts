/**
 * What a planned stage's cache key is made of (StageKeyInputs): its type and version, its key
 * params plus the pipeline seed, its upstream output digests and its dep digests. The key itself
 * is hashed from these in one place only: store/fingerprint.ts `stageKey`.
 */
import { resolve, sep } from 'node:path';
import type { PlannedStage } from './pipeline/index.js';
import { digestDeps, type OutputDigest, type StageKeyInputs } from './store/index.js';
import { keyParams } from './key-params.js';
import { formatLocation, UserError } from '../core/errors.js';

/**
 * What a stage's key is made of, given its upstream output digests. Params are the key params
 * (schema defaults dropped, see key-params.ts). The pipeline seed joins them under a reserved
 * name, because every stage's PRNG seed is derived from it: a new pipeline seed must give new
 * keys even where no param mentions it.
 */
export async function stageKeyInputs(
  stage: PlannedStage,
  inputDigests: Record<string, OutputDigest>,
  pipelineDir: string,
  pipelineSeed: number,
  depDigests: DepDigests = new DepDigests(),
): Promise<StageKeyInputs> {
  let deps: Record<string, string>;
  try {
    deps = await depDigests.of(stage.fileDeps, pipelineDir);
  } catch (err) {
    throw locateDepError(err, stage);
  }
  return {
    type: stage.type,
    version: stage.definition.version,
    params: { ...keyParams(stage.params, stage.definition.paramsSchema), $seed: pipelineSeed },
    inputs: inputDigests,
    deps,
  };
}

/**
 * Dep digests memoised for one run or one status call: many stages often share a dep (a question
 * bank, a script), and each file is hashed once. Edits made during a run are seen by the next one.
 */
export class DepDigests {
  private readonly memo = new Map<string, Promise<Record<string, string>>>();

  async of(paths: readonly string[], baseDir: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const path of paths) {
      const abs = resolve(baseDir, path);
      let digest = this.memo.get(abs);
      if (!digest) {
        digest = digestDeps([abs], baseDir);
        this.memo.set(abs, digest);
      }
      Object.assign(out, await digest);
    }
    return out;
  }
}

/** A dep's error (missing, not a file) pointed at the pipeline line that names the dep. */
function locateDepError(err: unknown, stage: PlannedStage): unknown {
  const file = err instanceof UserError ? err.location?.file : undefined;
  const dep = file === undefined ? undefined : stage.fileDeps.find((d) => file === d || file.startsWith(`${d}${sep}`));
  if (!(err instanceof UserError) || dep === undefined || !stage.depLocation) return err;
  const at = stage.depLocation(dep);
  return new UserError(err.code, `${formatLocation(at)}: stage ${stage.id}: ${err.message}`, { location: at, cause: err });
}
