/** Well-formed stage keys and output digests for tests that need one without computing it. */
import { createHash } from 'node:crypto';
import { parseOutputDigest, parseStageKey, type OutputDigest, type StageKey } from '../../src/engine/store/index.js';

const hex = (label: string): string => createHash('sha256').update(label).digest('hex');

/** A stage key derived from `label` (sha256 hex): distinct labels give distinct keys. */
export function testKey(label: string): StageKey {
  return parseStageKey(hex(`key:${label}`));
}

/** An output digest derived from `label` (sha256 hex). */
export function testDigest(label: string): OutputDigest {
  return parseOutputDigest(hex(`digest:${label}`));
}
