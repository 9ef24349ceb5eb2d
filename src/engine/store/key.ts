/**
 * Stage keys: what makes two runs of a stage interchangeable. A key is the sha256 of the
 * canonical JSON (sorted keys, no whitespace) of the stage type and version, its resolved params,
 * the output digests of its inputs and the content digests of its declared file deps, plus the
 * engine's own key version. Reordering keys in a YAML file therefore changes no key; changing any
 * value does.
 */
import { hashJson } from '../../core/canonical-json.js';

/** Joins every key; bump it when the engine changes what a cached output means (all caches go stale). */
// 2: params without their schema defaults (key-params.ts), seeds from the stage's own identity.
export const ENGINE_KEY_VERSION = 2;

export interface StageKeyInputs {
  type: string;
  version: number;
  /** Validated params, expressions resolved, values equal to their schema default left out (engine/key-params.ts); for `command`: the command line too. */
  params: unknown;
  /** Upstream stage id -> its output digest. */
  inputs: Record<string, string>;
  /** Dep path (posix, relative to the pipeline dir when inside it) -> content digest. */
  deps: Record<string, string>;
}

/** sha256 hex of canonicalJson({ engine: ENGINE_KEY_VERSION, type, version, params, inputs, deps }). */
export function stageKey(k: StageKeyInputs): string {
  return hashJson({
    engine: ENGINE_KEY_VERSION,
    type: k.type,
    version: k.version,
    params: k.params,
    inputs: k.inputs,
    deps: k.deps,
  });
}
