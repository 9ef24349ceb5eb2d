/**
 * The node side of the executor contract (job-file.ts): build one cache entry from a job file,
 * here, against the cache the file names, exactly as `run` would build it locally (build.ts), and
 * record the outcome in the result file. What a stage logs and its progress go to the events file
 * as JSON lines, which the submitter forwards to its reporter while the job runs:
 *
 *   {"t":"progress","done":3,"total":10,"note":"epoch 1"}
 *   {"t":"log","level":"info","message":"…"}
 */
import { appendFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { buildEntry } from '../build.js';
import { runStageInProcess, type JobCallbacks } from '../executor.js';
import type { StageRegistry } from '../registry.js';
import { acquireKeyLock, ArtifactStore, type KeyLock } from '../store/index.js';
import { PolypersonaError } from '../../core/errors.js';
import { readJobFile, writeJobResult, type ExecJobFile, type ExecJobResult, type ExecJobStatus } from './job-file.js';

export interface ExecJobOptions {
  signal: AbortSignal;
  /** Human-readable lines (the job's log). */
  log?: (line: string) => void;
  /** Environment whose scheduler ids go into provenance (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Minimum gap between two progress lines in the events file (ms): a chatty stage must not flood NFS. */
const PROGRESS_EVERY_MS = 500;

/**
 * Runs a job file. Resolves with the result written to the result file; a failed or cancelled
 * stage is a result too (status failed / cancelled), a bad job file throws JobFileError.
 */
export async function runJobFile(path: string, registry: StageRegistry, options: ExecJobOptions): Promise<ExecJobResult> {
  const job = readJobFile(path);
  return runJob(job, registry, options);
}

export async function runJob(job: ExecJobFile, registry: StageRegistry, options: ExecJobOptions): Promise<ExecJobResult> {
  const { task } = job;
  const startedAt = new Date().toISOString();
  const store = new ArtifactStore(job.store.runs_dir, { cacheDir: job.store.cache_dir, workRoot: job.store.work_dir });
  const log = options.log ?? ((): void => {});
  const finish = (status: ExecJobStatus, extra: Partial<ExecJobResult>): ExecJobResult => {
    const result: ExecJobResult = {
      format: 'polypersona-exec-job-result',
      version: 1,
      key: task.key,
      status,
      ...extra,
      host: hostname(),
      pid: process.pid,
      startedAt,
      finishedAt: new Date().toISOString(),
    };
    writeJobResult(job.result, result);
    return result;
  };

  let lock: KeyLock | undefined;
  try {
    if (job.lock === 'job') {
      lock = await acquireKeyLock(store, task.key, {
        wait: true,
        signal: options.signal,
        onWait: (holder) => log(`waiting for pid ${holder.pid} on ${holder.hostname}, which is writing this key`),
      });
    }
    const existing = await store.lookup(task.key);
    if (existing && !task.replace) {
      log(`stage ${task.stageId}: already in the cache (${existing.dir})`);
      return finish('cached', { outputDigest: existing.record.outputDigest });
    }
    await store.sweepStaging();
    log(`stage ${task.stageId} (${task.type}, key ${task.key.slice(0, 12)}…) on ${hostname()}, pid ${process.pid}`);
    const events = eventWriter(job.events, log);
    const env = options.env ?? process.env;
    const entry = await buildEntry(store, task, (stageJob, signal) => runStageInProcess(registry, stageJob, events, signal), {
      signal: options.signal,
      executor: job.executor,
      provenance: schedulerIds(env),
    });
    log(`published ${entry.dir} (output digest ${entry.record.outputDigest.slice(0, 12)}…)`);
    return finish('published', { outputDigest: entry.record.outputDigest });
  } catch (err) {
    const cancelled = options.signal.aborted;
    const error = {
      code: err instanceof PolypersonaError ? err.code : cancelled ? 'cancelled' : 'stage-threw',
      message: err instanceof PolypersonaError ? err.message : `stage "${task.stageId}" threw: ${err instanceof Error ? err.message : String(err)}`,
    };
    log(`${cancelled ? 'cancelled' : 'failed'}: ${error.message}`);
    return finish(cancelled ? 'cancelled' : 'failed', { error });
  } finally {
    lock?.release();
  }
}

/** Job ids a scheduler puts in the environment, for stage.json's provenance. */
function schedulerIds(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (env.SLURM_JOB_ID) out.slurmJobId = env.SLURM_JOB_ID;
  if (env.SLURMD_NODENAME) out.slurmNode = env.SLURMD_NODENAME;
  return out;
}

/** Callbacks that append JSON lines to the events file (and log lines to the job log). */
function eventWriter(path: string | undefined, log: (line: string) => void): JobCallbacks {
  let lastProgress = 0;
  const append = (event: Record<string, unknown>): void => {
    if (!path) return;
    try {
      appendFileSync(path, `${JSON.stringify(event)}\n`);
    } catch {
      // Progress is a courtesy: a full or vanished events file must not fail the stage.
    }
  };
  return {
    progress(done, total, note) {
      const now = Date.now();
      if (now - lastProgress < PROGRESS_EVERY_MS && done !== total) return;
      lastProgress = now;
      append({ t: 'progress', done, ...(total === undefined ? {} : { total }), ...(note === undefined ? {} : { note }) });
    },
    log(level, message) {
      if (level !== 'debug') log(`${level}: ${message}`);
      append({ t: 'log', level, message });
    },
  };
}
