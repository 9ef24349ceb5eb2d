/**
 * Compile-time checks of the fingerprint brands (src/engine/store/fingerprint.ts). Never run:
 * fingerprint.test.ts compiles this file with the TypeScript compiler, once as written (it must
 * compile: every `@ts-expect-error` below is used) and once with the markers removed (exactly the
 * marked lines must then fail, each on a brand). `npm run typecheck` reads it too.
 */
import type { ArtifactRef } from '../../../src/engine/contract.js';
import type { RunEvent } from '../../../src/engine/events.js';
import type { StageTask } from '../../../src/engine/stage-task.js';
import {
  parseOutputDigest,
  parseStageKey,
  stageKey,
  type ArtifactStore,
  type LockedStage,
  type OutputDigest,
  type StageKey,
  type StageKeyInputs,
} from '../../../src/engine/store/index.js';

export function misuse(store: ArtifactStore, inputs: StageKeyInputs, text: string): unknown[] {
  // Allowed: a computed key, parsed strings, and both read as strings.
  const key: StageKey = stageKey(inputs);
  const digest: OutputDigest = parseOutputDigest(text);
  const parsed: StageKey = parseStageKey(text);
  const shown: string = `${key.slice(0, 12)} ${digest.slice(0, 12)}`;
  const found = store.lookup(parsed);
  const upstream: StageKeyInputs = { ...inputs, inputs: { up: digest } };

  // @ts-expect-error an output digest is not a stage key
  const wrongKey: StageKey = digest;
  // @ts-expect-error a stage key is not an output digest
  const wrongDigest: OutputDigest = key;
  // @ts-expect-error a plain string must be parsed first
  const plainKey: StageKey = text;
  // @ts-expect-error store lookups take a stage key, not an output digest
  const lookedUp = store.lookup(digest);
  // @ts-expect-error a key's inputs are upstream output digests, not their keys
  const keyedInputs: StageKeyInputs = { ...inputs, inputs: { up: key } };
  // @ts-expect-error an artifact ref's digest and key cannot be swapped
  const ref: Pick<ArtifactRef, 'digest' | 'key'> = { digest: key, key: digest };
  // @ts-expect-error a lock file entry records an output digest, not a key
  const locked: LockedStage['outputs'] = { digest: key, files: 0, bytes: 0 };
  // @ts-expect-error an executor's task names the key to build, not a digest
  const task: Pick<StageTask, 'key'> = { key: digest };
  // @ts-expect-error events carry the key and the digest each in its own field
  const event: RunEvent = { type: 'stage-cached', id: 's', key: digest, digest: key };
  return [shown, found, upstream, wrongKey, wrongDigest, plainKey, lookedUp, keyedInputs, ref, locked, task, event];
}
