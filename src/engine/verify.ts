import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedPipeline } from './pipeline/index.js';
import type { StageRegistry } from './registry.js';
import { runPipeline, type RunOptions, type RunSummary } from './scheduler.js';
import { ArtifactStore, LOCK_VERSION, lockFilePath, readPipelineLock, stageCheckOf, type OutputDigest } from './store/index.js';
import { compareStage } from './compare-outputs.js';
import { UserError } from '../core/errors.js';

export interface StageVerification {
  id: string;
  /**
   * identical: same output digest as the lock file; within-tolerance: float results within the
   * comparators' tolerance (compare-outputs.ts); different: anything else; missing: not in the lock
   * file; failed: did not complete.
   */
  verdict: 'identical' | 'within-tolerance' | 'different' | 'missing' | 'failed';
  /** An upstream stage is not identical: this stage's deviation follows from it. */
  propagated?: boolean;
  expected?: OutputDigest;
  actual?: OutputDigest;
  /** Within tolerance: the largest deviation of each compared file. */
  largestDeviation?: string;
  /** Different: the first difference, in words. */
  firstDifference?: string;
  /** Output files that differ (sorted). */
  differingFiles?: string[];
  /** Of those, the files without a comparator that follow from compared ones. */
  derivedFiles?: string[];
}

export interface VerifyReport {
  lockFile: string;
  stages: StageVerification[];
  /** Every stage identical or within tolerance (identical only, with strict). */
  ok: boolean;
  strict: boolean;
  run: RunSummary;
  /** Where the recomputed artifacts are, when kept. */
  scratchRunsDir?: string;
}

/**
 * The reviewer's check: recompute every stage from scratch in a private, empty store (the real
 * cache is neither read nor written), then compare each stage's outputs with the committed lock
 * file, in pipeline order: identical digests, else the comparators (compare-outputs.ts) on the
 * lock's check data. Downstream stages run on this machine's own upstream outputs, so a deviation
 * upstream shows downstream as propagated.
 */
export async function verifyPipeline(
  pipeline: LoadedPipeline,
  registry: StageRegistry,
  originalStore: ArtifactStore,
  options: Pick<RunOptions, 'jobs' | 'threads' | 'signal' | 'onEvent' | 'executor' | 'stages'> & { keep?: boolean; strict?: boolean } = {},
): Promise<VerifyReport> {
  const lockFile = lockFilePath(pipeline.file);
  const lock = readPipelineLock(lockFile);
  if (!lock) {
    throw new UserError('no-lock-file', `${lockFile} does not exist: run the pipeline once and commit its lock file before verifying`, { location: { file: lockFile } });
  }
  const strict = options.strict === true;
  const scratch = mkdtempSync(join(tmpdir(), 'polypersona-verify-'));
  try {
    const run = await runPipeline(pipeline, new ArtifactStore(scratch), registry, {
      ...options,
      keepGoing: true,
      writeLock: false,
      writeHistory: false,
    });
    const verdicts = new Map<string, StageVerification>();
    for (const [id, stage] of pipeline.stages) {
      const result = run.results.get(id);
      if (!result) continue;
      const locked = lock.stages[id];
      const propagated = stage.needs.some((n) => verdicts.has(n) && verdicts.get(n)!.verdict !== 'identical');
      let v: StageVerification;
      if (!result.digest || !result.entry) {
        v = { id, verdict: 'failed', expected: locked?.outputs.digest };
      } else if (!locked) {
        v = { id, verdict: 'missing', actual: result.digest };
      } else if (locked.outputs.digest === result.digest) {
        v = { id, verdict: 'identical', expected: locked.outputs.digest, actual: result.digest };
      } else {
        const actual = stageCheckOf(result.entry.record);
        const base = { id, expected: locked.outputs.digest, actual: result.digest, ...(propagated ? { propagated } : {}) };
        if (!locked.check) {
          const original = await originalStore.lookup(locked.key);
          const differingFiles = original ? diffFiles(original.record.files, result.entry.record.files) : undefined;
          v = { ...base, verdict: 'different', firstDifference: `digest ${locked.outputs.digest.slice(0, 12)} -> ${result.digest.slice(0, 12)}; the lock file (version ${lock.version}) holds no check data to compare within tolerance: re-run the pipeline to write a version ${LOCK_VERSION} lock`, differingFiles };
        } else {
          const c = compareStage(locked.check, actual, { float: stage.definition.reproducibility === 'float', propagated, strict });
          v = {
            ...base,
            verdict: c.verdict,
            differingFiles: diffFiles(Object.entries(locked.check.files).map(([path, sha256]) => ({ path, sha256 })), result.entry.record.files),
            ...(c.largestDeviation ? { largestDeviation: c.largestDeviation } : {}),
            ...(c.firstDifference ? { firstDifference: c.firstDifference } : {}),
            ...(c.derivedFiles ? { derivedFiles: c.derivedFiles } : {}),
          };
        }
      }
      verdicts.set(id, v);
    }
    const stages = [...verdicts.values()];
    const ok = stages.every((s) => s.verdict === 'identical' || (!strict && s.verdict === 'within-tolerance'));
    return { lockFile, stages, ok, strict, run, scratchRunsDir: options.keep ? scratch : undefined };
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
