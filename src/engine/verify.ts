import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedPipeline } from './pipeline/index.js';
import type { StageRegistry } from './registry.js';
import { runPipeline, type RunOptions, type RunSummary } from './scheduler.js';
import { ArtifactStore, lockFilePath, readPipelineLock } from './store/index.js';
import { UserError } from '../core/errors.js';

export interface StageVerification {
  id: string;
  /** match: same output digest as the lock file; mismatch: different; missing: not in the lock file; failed: did not complete. */
  verdict: 'match' | 'mismatch' | 'missing' | 'failed';
  expected?: string;
  actual?: string;
  /** For a mismatch, files whose content differs from the original cache entry (when that entry is still cached). */
  differingFiles?: string[];
}

export interface VerifyReport {
  lockFile: string;
  stages: StageVerification[];
  ok: boolean;
  run: RunSummary;
  /** Where the recomputed artifacts are, when kept. */
  scratchRunsDir?: string;
}

/**
 * The reviewer's check: recompute every stage from scratch in a private, empty store (the real
 * cache is neither read nor written) and compare each output digest with the committed lock file.
 */
export async function verifyPipeline(
  pipeline: LoadedPipeline,
  registry: StageRegistry,
  originalStore: ArtifactStore,
  options: Pick<RunOptions, 'jobs' | 'threads' | 'signal' | 'onEvent' | 'executor' | 'stages'> & { keep?: boolean } = {},
): Promise<VerifyReport> {
  const lockFile = lockFilePath(pipeline.file);
  const lock = readPipelineLock(lockFile);
  if (!lock) {
    throw new UserError('no-lock-file', `${lockFile} does not exist: run the pipeline once and commit its lock file before verifying`, { location: { file: lockFile } });
  }
  const scratch = mkdtempSync(join(tmpdir(), 'polypersona-verify-'));
  try {
    const run = await runPipeline(pipeline, new ArtifactStore(scratch), registry, {
      ...options,
      keepGoing: true,
      writeLock: false,
      writeHistory: false,
    });
    const stages: StageVerification[] = [];
    for (const [id, result] of run.results) {
      const locked = lock.stages[id];
      if (!result.digest) {
        stages.push({ id, verdict: 'failed', expected: locked?.outputs.digest });
      } else if (!locked) {
        stages.push({ id, verdict: 'missing', actual: result.digest });
      } else if (locked.outputs.digest === result.digest) {
        stages.push({ id, verdict: 'match', expected: locked.outputs.digest, actual: result.digest });
      } else {
        const original = await originalStore.lookup(locked.key);
        const differingFiles = original && result.entry ? diffFiles(original.record.files, result.entry.record.files) : undefined;
        stages.push({ id, verdict: 'mismatch', expected: locked.outputs.digest, actual: result.digest, differingFiles });
      }
    }
    const ok = stages.every((s) => s.verdict === 'match');
    return { lockFile, stages, ok, run, scratchRunsDir: options.keep ? scratch : undefined };
  } finally {
    if (!options.keep) rmSync(scratch, { recursive: true, force: true });
  }
}

function diffFiles(a: Array<{ path: string; sha256: string }>, b: Array<{ path: string; sha256: string }>): string[] {
  const left = new Map(a.map((f) => [f.path, f.sha256]));
  const right = new Map(b.map((f) => [f.path, f.sha256]));
  const paths = new Set([...left.keys(), ...right.keys()]);
  return [...paths].filter((p) => left.get(p) !== right.get(p)).sort();
}
