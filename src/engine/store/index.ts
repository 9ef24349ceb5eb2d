/** The engine's store: hashing, the cache key and output digest (fingerprint.ts), the artifact cache, locks, lock files, history, gc. */
/** The cache key and the output digest (fingerprint.ts): computed there, branded, parsed at trust boundaries. */
export {
  ENGINE_KEY_VERSION,
  stageKey,
  type StageKeyInputs,
  digestOutputs,
  isOutputDigest,
  isStageKey,
  MalformedFingerprintError,
  parseOutputDigest,
  parseStageKey,
  type OutputDigest,
  type StageKey,
} from './fingerprint.js';
export {
  compareUtf8,
  depName,
  digestDeps,
  digestFile,
  digestTree,
  EMPTY_TREE_DIGEST,
  treeDigestOf,
  UnsupportedFileError,
  type TreeDigest,
  type TreeFile,
} from './digest.js';
export { environmentInfo, type EnvironmentInfo } from './environment.js';
export { checkStageRecord, type StageRecord, type StageRecordDraft } from './record.js';
export { ArtifactStore, CacheCorruptError, treeBytes, verifyEntry, type CacheEntry, type Staging } from './artifact-store.js';
export { acquireFileLock, acquireKeyLock, LockBusyError, sweepStaleKeyLocks, type FileLock, type KeyLock, type LockHolder } from './key-lock.js';
export { RunLease, withLeases } from './lease.js';
export {
  lockedStageOf,
  stageCheckOf,
  LOCK_VERSION,
  type StageCheck,
  lockFilePath,
  readPipelineLock,
  parsePipelineLock,
  sameLock,
  writePipelineLock,
  type LockReadOptions,
  type LockedStage,
  type PipelineLock,
} from './pipeline-lock.js';
export { explainStale } from './stale.js';
export { historyDirName, listRunRecords, writeRunRecord, type RunRecord, type StageOutcome } from './history.js';
export { collectReferencedKeys, garbageCollect, type GcResult } from './gc.js';
