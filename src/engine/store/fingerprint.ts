/**
 * The cache key and the output digest: the two fingerprints the engine caches by, computed here
 * and nowhere else, as branded string types so that the compiler rejects one where the other is
 * expected (and a plain string where either is).
 *
 * - StageKey: what makes two runs of a stage interchangeable. sha256 hex of the canonical JSON
 *   (core/canonical-json.ts: sorted object keys, no whitespace) of
 *   `{ engine: ENGINE_KEY_VERSION, type, version, params, inputs, deps }` (StageKeyInputs).
 *   Reordering keys in a YAML file therefore changes no key; changing any value does.
 *   engine/key-inputs.ts gathers a planned stage's StageKeyInputs (key params, `$seed`, dep digests).
 * - OutputDigest: the tree digest (digest.ts, construction version 1) of a published entry's
 *   `out/`; the next stage's key holds it under `inputs`.
 *
 * Both are 64 lowercase hex characters at run time; the brand exists only in the types. The only
 * ways to get one are to compute it here, or to read it back from a file (lock file, stage.json,
 * job file, job result, run record) or a caller through the guards and parsers below, which check
 * the format first.
 */
import { hashJson } from '../../core/canonical-json.js';
import { UserError } from '../../core/errors.js';
import { digestTree, type TreeFile } from './digest.js';

export type StageKey = string & { readonly __brand: 'StageKey' };
export type OutputDigest = string & { readonly __brand: 'OutputDigest' };

/** Joins every key; bump it when the engine changes what a cached output means (all caches go stale). */
// 2: params without their schema defaults (key-params.ts), seeds from the stage's own identity.
export const ENGINE_KEY_VERSION = 2;

/** What a stage key is made of. Records (stage.json, lock file entries) extend it. */
export interface StageKeyInputs {
  type: string;
  version: number;
  /** Validated params, expressions resolved, values equal to their schema default left out (engine/key-params.ts); for `command`: the command line too. */
  params: unknown;
  /** Upstream stage id -> its output digest. */
  inputs: Record<string, OutputDigest>;
  /** Dep path (posix, relative to the pipeline dir when inside it) -> content digest (a file's sha256 or a folder's tree digest). */
  deps: Record<string, string>;
}

/** sha256 hex of canonicalJson({ engine: ENGINE_KEY_VERSION, type, version, params, inputs, deps }). */
export function stageKey(k: StageKeyInputs): StageKey {
  return hashJson({
    engine: ENGINE_KEY_VERSION,
    type: k.type,
    version: k.version,
    params: k.params,
    inputs: k.inputs,
    deps: k.deps,
  }) as StageKey;
}

/** The output digest of a folder (its tree digest, digest.ts) and its files, sorted by path. */
export async function digestOutputs(dir: string): Promise<{ digest: OutputDigest; files: TreeFile[] }> {
  const tree = await digestTree(dir);
  return { digest: tree.digest as OutputDigest, files: tree.files };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Whether a value read back from a file is a stage key (64 lowercase hex characters). */
export function isStageKey(value: unknown): value is StageKey {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

/** Whether a value read back from a file is an output digest (64 lowercase hex characters). */
export function isOutputDigest(value: unknown): value is OutputDigest {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

/** A stage key or output digest that is not 64 lowercase hex characters (exit code 2: the user's input). */
export class MalformedFingerprintError extends UserError {
  readonly value: unknown;
  readonly expected: 'stage key' | 'output digest';
  constructor(value: unknown, expected: 'stage key' | 'output digest') {
    const shown = typeof value === 'string' ? value : JSON.stringify(value);
    super(expected === 'stage key' ? 'bad-key' : 'bad-digest', `"${shown}" is not ${expected === 'stage key' ? 'a stage key' : 'an output digest'} (64 lowercase hex characters)`);
    this.value = value;
    this.expected = expected;
  }
}

/** A stage key from a caller or a file; MalformedFingerprintError otherwise. */
export function parseStageKey(value: unknown): StageKey {
  if (!isStageKey(value)) throw new MalformedFingerprintError(value, 'stage key');
  return value;
}

/** An output digest from a caller or a file; MalformedFingerprintError otherwise. */
export function parseOutputDigest(value: unknown): OutputDigest {
  if (!isOutputDigest(value)) throw new MalformedFingerprintError(value, 'output digest');
  return value;
}
