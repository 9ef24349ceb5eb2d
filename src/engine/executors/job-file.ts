/**
 * The executor contract: a job file (`JOB.json`) that `polypersona exec-job JOB.json` runs, on
 * any machine that sees the same cache at the same path. Whoever writes the file (the SLURM
 * executor, or another scheduler) gets the cache entry of `task.key` built and published there,
 * and a result file saying how it went. Format, version 1 (docs/cluster.md has the full text):
 *
 *   { "format": "polypersona-exec-job", "version": 1,
 *     "store":  { "runs_dir": "/abs/runs", "cache_dir": "/abs/cache", "work_dir": "/abs/work" },
 *     "lock":   "caller" | "job",     // who holds the key's writer lock (see below)
 *     "result": "/abs/path/result.json",
 *     "events": "/abs/path/events.jsonl",          // optional: progress lines while it runs
 *     "executor": "slurm",                         // recorded in stage.json's provenance
 *     "task":   StageTask }                        // executor.ts
 *
 * `lock: "caller"`: the submitter holds `<key>.lock` for the job's whole life (the SLURM executor
 * does); `"job"`: exec-job takes the lock itself, waiting for another writer — for a scheduler
 * that just runs job files.
 *
 * The result file (written atomically when exec-job ends, whatever the outcome):
 *
 *   { "format": "polypersona-exec-job-result", "version": 1, "key": "…",
 *     "status": "published" | "cached" | "failed" | "cancelled",
 *     "outputDigest": "…",                          // published / cached
 *     "error": { "code": "…", "message": "…" },     // failed / cancelled
 *     "host": "node17", "pid": 4242, "startedAt": "…", "finishedAt": "…" }
 */
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { UserError } from '../../core/errors.js';
import type { StageTask } from '../executor.js';
import { isOutputDigest, isStageKey, type OutputDigest, type StageKey } from '../store/fingerprint.js';

export const JOB_FORMAT = 'polypersona-exec-job';
export const RESULT_FORMAT = 'polypersona-exec-job-result';

export interface ExecJobFile {
  format: typeof JOB_FORMAT;
  version: 1;
  store: { runs_dir: string; cache_dir: string; work_dir: string };
  lock: 'caller' | 'job';
  result: string;
  events?: string;
  executor: string;
  task: StageTask;
}

export type ExecJobStatus = 'published' | 'cached' | 'failed' | 'cancelled';

export interface ExecJobResult {
  format: typeof RESULT_FORMAT;
  version: 1;
  key: StageKey;
  status: ExecJobStatus;
  outputDigest?: OutputDigest;
  error?: { code: string; message: string };
  host: string;
  pid: number;
  startedAt: string;
  finishedAt: string;
}

/** A job file that cannot be run: unreadable, not JSON, or missing a field. Exit code 2. */
export class JobFileError extends UserError {
  constructor(path: string, why: string, cause?: unknown) {
    super('bad-job-file', `job file ${path}: ${why}`, { location: { file: path }, ...(cause === undefined ? {} : { cause }) });
  }
}

export function writeJobFile(path: string, job: ExecJobFile): void {
  writeFileAtomic(path, `${JSON.stringify(job, null, 2)}\n`);
}

/** Reads and checks a job file; every problem names the file and the field. */
export function readJobFile(path: string): ExecJobFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new JobFileError(path, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message, err);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new JobFileError(path, `not JSON (${(err as Error).message})`, err);
  }
  const fail = (why: string): never => {
    throw new JobFileError(path, why);
  };
  const job = value as Partial<ExecJobFile>;
  if (typeof job !== 'object' || job === null || Array.isArray(job)) fail('not a JSON object');
  if (job.format !== JOB_FORMAT) fail(`"format" must be "${JOB_FORMAT}"`);
  if (job.version !== 1) fail(`"version" ${JSON.stringify(job.version)} is not one this polypersona reads (1)`);
  const store = job.store as Record<string, unknown> | undefined;
  for (const field of ['runs_dir', 'cache_dir', 'work_dir'] as const) {
    const v = store?.[field];
    if (typeof v !== 'string' || !isAbsolute(v)) fail(`"store.${field}" must be an absolute path`);
  }
  if (job.lock !== 'caller' && job.lock !== 'job') fail('"lock" must be "caller" or "job"');
  if (typeof job.result !== 'string' || !isAbsolute(job.result)) fail('"result" must be an absolute path');
  if (job.events !== undefined && (typeof job.events !== 'string' || !isAbsolute(job.events))) fail('"events" must be an absolute path');
  if (typeof job.executor !== 'string') fail('"executor" must be a string');
  checkTask(job.task, fail);
  return job as ExecJobFile;
}

function checkTask(task: unknown, fail: (why: string) => never): void {
  if (typeof task !== 'object' || task === null || Array.isArray(task)) fail('"task" must be an object');
  const t = task as Record<string, unknown>;
  if (!isStageKey(t.key)) fail('"task.key" must be a stage key (64 hex characters)');
  for (const field of ['stageId', 'type', 'pipeline', 'pipelineDir']) if (typeof t[field] !== 'string') fail(`"task.${field}" must be a string`);
  for (const field of ['version', 'seed', 'threads']) if (!Number.isInteger(t[field])) fail(`"task.${field}" must be an integer`);
  if (typeof t.params !== 'object' || t.params === null) fail('"task.params" must be an object');
  if (!Array.isArray(t.inputs)) fail('"task.inputs" must be a list of artifact refs');
  (t.inputs as unknown[]).forEach((ref, i) => checkRef(ref, `task.inputs[${i}]`, fail));
  const record = t.record as Record<string, unknown> | undefined;
  if (typeof record !== 'object' || record === null || typeof record.inputs !== 'object' || typeof record.deps !== 'object' || !('params' in record)) {
    fail('"task.record" must hold params, inputs and deps');
  }
  for (const [id, digest] of Object.entries(record!.inputs as object)) {
    if (!isOutputDigest(digest)) fail(`"task.record.inputs.${id}" must be an output digest (64 hex characters)`);
  }
  if (typeof t.replace !== 'boolean') fail('"task.replace" must be true or false');
}

function checkRef(ref: unknown, at: string, fail: (why: string) => never): void {
  const r = ref as Record<string, unknown>;
  if (typeof r !== 'object' || r === null) fail(`"${at}" must be an object`);
  for (const field of ['stageId', 'type', 'kind', 'dir', 'digest', 'key']) if (typeof r[field] !== 'string') fail(`"${at}.${field}" must be a string`);
  if (!isOutputDigest(r.digest)) fail(`"${at}.digest" must be an output digest (64 hex characters)`);
  if (!isStageKey(r.key)) fail(`"${at}.key" must be a stage key (64 hex characters)`);
  if (!Array.isArray(r.upstream)) fail(`"${at}.upstream" must be a list`);
  (r.upstream as unknown[]).forEach((u, i) => checkRef(u, `${at}.upstream[${i}]`, fail));
}

export function writeJobResult(path: string, result: ExecJobResult): void {
  writeFileAtomic(path, `${JSON.stringify(result, null, 2)}\n`);
}

/** The result file, or undefined when there is none yet or it is not one (a job killed before writing it). */
export function readJobResult(path: string): ExecJobResult | undefined {
  let value: Partial<ExecJobResult>;
  try {
    value = JSON.parse(readFileSync(path, 'utf8')) as Partial<ExecJobResult>;
  } catch {
    return undefined;
  }
  if (value?.format !== RESULT_FORMAT || typeof value.status !== 'string' || !isStageKey(value.key)) return undefined;
  if (value.outputDigest !== undefined && !isOutputDigest(value.outputDigest)) return undefined;
  return value as ExecJobResult;
}
