/**
 * Building one cache entry, the same way wherever it happens (in the `run` process, or in
 * `exec-job` on a cluster node): a fresh staging dir, the task's runtime expressions resolved
 * against it, the stage run, then the store's atomic publish (digest, stage.json, fsync, rename).
 * A failed or cancelled run discards its staging dir; nothing half-made ever looks like an entry.
 */
import type { StageJob, StageTask, JobResult } from './stage-task.js';
import { resolveRuntimeExpressions } from './pipeline/index.js';
import { environmentInfo, type ArtifactStore, type CacheEntry } from './store/index.js';
import { PolypersonaError, StageFailure } from '../core/errors.js';

export interface BuildOptions {
  signal: AbortSignal;
  /** Recorded in stage.json's provenance as `executor`. */
  executor: string;
  /** More provenance (a cluster job's id and node). */
  provenance?: Record<string, unknown>;
}

/** Runs `runJob` for `task` into a staging dir and publishes the result as task.key's entry. */
export async function buildEntry(
  store: ArtifactStore,
  task: StageTask,
  runJob: (job: StageJob, signal: AbortSignal) => Promise<JobResult>,
  options: BuildOptions,
): Promise<CacheEntry> {
  const staging = await store.stage(task.key);
  const startedAt = new Date();
  const stageDirs: Record<string, string> = {};
  for (const ref of task.inputs) stageDirs[ref.stageId] = ref.dir;
  const job: StageJob = {
    stageId: task.stageId,
    type: task.type,
    params: resolveRuntimeExpressions(task.params, { outputsDir: staging.outDir, stageDirs, shellParams: task.shellParams }) as Record<string, unknown>,
    inputs: task.inputs,
    outDir: staging.outDir,
    workDir: store.workDir(task.key),
    pipelineDir: task.pipelineDir,
    seed: task.seed,
    threads: task.threads,
  };
  let provenance: Record<string, unknown>;
  try {
    ({ provenance } = await runJob(job, options.signal));
  } catch (err) {
    await staging.discard();
    throw err;
  }
  if (task.replace) await store.remove(task.key);
  const finishedAt = new Date();
  let entry: CacheEntry;
  try {
    entry = await store.publish(staging, {
      key: task.key,
      stageId: task.stageId,
      pipeline: task.pipeline,
      type: task.type,
      version: task.version,
      params: task.record.params,
      inputs: task.record.inputs,
      deps: task.record.deps,
      seed: task.seed,
      threads: task.threads,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      environment: environmentInfo(),
      provenance: { ...provenance, ...options.provenance, executor: options.executor },
    });
  } catch (err) {
    await staging.discard();
    // What the stage wrote cannot be published (a symlink, a special file): the stage failed.
    if (err instanceof PolypersonaError) throw new StageFailure(err.code, `stage "${task.stageId}": ${err.message}`, { cause: err });
    throw err;
  }
  await store.clearWork(task.key);
  return entry;
}
