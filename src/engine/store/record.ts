/** `stage.json`: the provenance record stored beside every cache entry's `out/`. */
import type { TreeDigest } from './digest.js';
import type { EnvironmentInfo } from './environment.js';
import type { OutputSummaries } from './output-summary.js';
import { InternalError } from '../../core/errors.js';
import { isOutputDigest, isStageKey, type OutputDigest, type StageKey, type StageKeyInputs } from './fingerprint.js';

/** The key inputs (type, version, key params, input and dep digests) and what the run made of them. */
export interface StageRecord extends StageKeyInputs {
  key: StageKey;
  stageId: string;
  /** Pipeline name. */
  pipeline: string;
  /** Tree digest of `out/`. */
  outputDigest: OutputDigest;
  files: TreeDigest['files'];
  seed: number;
  threads: number;
  /** ISO 8601 timestamps. */
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  environment: EnvironmentInfo;
  /** Fields the stage added with ctx.recordProvenance. */
  provenance: Record<string, unknown>;
  /** What verify's comparators need (tensor norms, prediction hashes, metrics); absent in entries published before them. */
  summaries?: OutputSummaries;
}

/** What a caller passes to publish(); the store adds the output digest and file list. */
export type StageRecordDraft = Omit<StageRecord, 'outputDigest' | 'files' | 'summaries'>;

/** Field -> typeof, checked on every cache lookup (built once: a no-op run looks up every stage). */
const REQUIRED_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['key', 'string'], ['stageId', 'string'], ['pipeline', 'string'], ['type', 'string'], ['version', 'number'],
  ['inputs', 'object'], ['deps', 'object'], ['outputDigest', 'string'], ['files', 'object'],
  ['seed', 'number'], ['threads', 'number'], ['startedAt', 'string'], ['finishedAt', 'string'],
  ['durationMs', 'number'], ['environment', 'object'], ['provenance', 'object'],
];

/** Throws a TypeError naming the first missing or mistyped field; returns the value typed. */
export function checkStageRecord(value: unknown): StageRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InternalError('not an object');
  const r = value as Record<string, unknown>;
  for (const [field, type] of REQUIRED_FIELDS) {
    if (typeof r[field] !== type || r[field] === null) throw new InternalError(`field "${field}" is missing or not a ${type}`);
  }
  if (!isStageKey(r.key)) throw new InternalError('field "key" is not a stage key (64 lowercase hex characters)');
  if (!isOutputDigest(r.outputDigest)) throw new InternalError('field "outputDigest" is not an output digest (64 lowercase hex characters)');
  if (!Object.values(r.inputs as object).every(isOutputDigest)) throw new InternalError('field "inputs" must map stage ids to output digests');
  if (!Array.isArray(r.files)) throw new InternalError('field "files" is not an array');
  if (!('params' in r)) throw new InternalError('field "params" is missing');
  return r as unknown as StageRecord;
}
