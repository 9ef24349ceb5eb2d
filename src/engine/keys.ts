import type { PlannedStage } from './pipeline/index.js';
import { digestDeps, explainStale, listRunRecords, stageKey, type LockedStage, type StageKeyInputs } from './store/index.js';
import { deriveSeed } from '../core/prng.js';
import { canonicalJson } from '../core/canonical-json.js';
import { keyParams } from './key-params.js';
import { formatLocation, UserError } from '../core/errors.js';
import { relative, resolve, sep, isAbsolute } from 'node:path';

/**
 * What a stage's key is made of, given its upstream output digests. Params are the key params
 * (schema defaults dropped, see key-params.ts). The pipeline seed joins them under a reserved
 * name, because every stage's PRNG seed is derived from it: a new pipeline seed must give new
 * keys even where no param mentions it.
 */
export async function stageKeyInputs(
  stage: PlannedStage,
  inputDigests: Record<string, string>,
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

export function keyOf(inputs: StageKeyInputs): string {
  return stageKey(inputs);
}

/**
 * The uint32 seed a stage's run() gets: from the pipeline seed and what the stage itself is (its
 * id as written, its matrix coordinates, its type and its key params), never from upstream output
 * digests. Two machines whose upstream artifacts differ in the last bits of a float (ONNX Runtime
 * reductions on another CPU) therefore draw the same LoRA init and dropout masks; the key still
 * holds the upstream digests, so a changed input still re-runs the stage.
 */
export function stageSeed(pipelineSeed: number, stage: Pick<PlannedStage, 'baseId' | 'matrix' | 'type' | 'params' | 'definition'>): number {
  return deriveSeed(pipelineSeed, stageSeedLabel(stage));
}

/** Canonical JSON of { stage, matrix, type, params }: the label stageSeed hashes with the pipeline seed. */
export function stageSeedLabel(stage: Pick<PlannedStage, 'baseId' | 'matrix' | 'type' | 'params' | 'definition'>): string {
  return canonicalJson({
    stage: stage.baseId,
    matrix: stage.matrix ?? null,
    type: stage.type,
    params: keyParams(stage.params, stage.definition.paramsSchema),
  });
}

/** A path for messages: relative to the pipeline dir when inside it. */
export function displayPath(path: string, baseDir: string): string {
  const rel = relative(baseDir, path);
  return rel && !rel.startsWith(`..${sep}`) && !isAbsolute(rel) ? rel.split(sep).join('/') : path;
}

/**
 * Why a stage whose key has no cache entry must run, in the same words for `run` and `status`:
 * what changed against the lock file (explainStale), or, when the lock file has this very key,
 * whether a run here built it once (removed since) or never did.
 */
export function missReasons(previous: LockedStage | undefined, keyInputs: StageKeyInputs, key: string, builtHere: BuiltHere): string[] {
  const reasons = explainStale(previous, keyInputs);
  if (reasons.length === 0) {
    reasons.push(builtHere.has(key) ? 'cache entry removed (by gc or by hand) since a run built it' : 'not built on this machine yet (the lock file records this key)');
  }
  return reasons;
}

/** Keys earlier runs of a pipeline ran or found cached here (run records), read once and only when asked. */
export class BuiltHere {
  private keys: Set<string> | undefined;
  constructor(
    private readonly runsDir: string,
    private readonly pipeline: string,
  ) {}

  has(key: string): boolean {
    if (!this.keys) {
      try {
        this.keys = new Set(listRunRecords(this.runsDir, this.pipeline).flatMap((r) => r.stages.filter((s) => s.outcome === 'ran' || s.outcome === 'cached').map((s) => s.key)));
      } catch {
        this.keys = new Set(); // a broken record only costs the reason its precision
      }
    }
    return this.keys.has(key);
  }
}
