import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { producedKind, type ArtifactRef } from './contract.js';
import type { RunEvent, RunEventListener, StageOutcome } from './events.js';
import { LocalExecutor, type Executor, type StageTask } from './executor.js';
import { StageGate } from './gate.js';
import { ProgressMeter } from './progress.js';
import { DepDigests, stageKeyInputs } from './key-inputs.js';
import { BuiltHere, missReasons } from './miss-reasons.js';
import { stageSeed } from './stage-seed.js';
import { summariseOutputs } from './store/output-summary.js';
import type { LoadedPipeline, PlannedStage } from './pipeline/index.js';
import type { StageRegistry } from './registry.js';
import {
  acquireKeyLock,
  lockFilePath,
  readPipelineLock,
  stageCheckOf,
  LOCK_VERSION,
  RunLease,
  sameLock,
  stageKey,
  sweepStaleKeyLocks,
  writePipelineLock,
  writeRunRecord,
  type ArtifactStore,
  type CacheEntry,
  type LockedStage,
  type LockReadOptions,
  type PipelineLock,
  type RunRecord,
  type OutputDigest,
  type StageKey,
  type StageKeyInputs,
} from './store/index.js';
import { PolypersonaError, UserError, type FailureCode } from '../core/errors.js';
import { redactSecrets } from '../core/secrets.js';
import { selectStages } from './selection.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface RunOptions {
  /** `--stage`: ids to run (a matrix stage's base id selects all its expansions). Default: all. */
  stages?: string[];
  /** Ignore the cache for the selected stages. */
  force?: boolean;
  /** Also rerun everything downstream of the selected stages. */
  downstream?: boolean;
  /** Report what would run; run nothing. */
  dryRun?: boolean;
  /** Stages at once (exclusive stages always run alone). Default 1. */
  jobs?: number;
  /** After a failure, keep running stages that do not depend on it. */
  keepGoing?: boolean;
  /** Wait for another process writing the same key (default) or fail at once (`--no-wait`). */
  wait?: boolean;
  /** Intra-op threads for exclusive stages (others get cores / jobs). Default: all cores. */
  threads?: number;
  /** Recompute the digest of every cache hit (slow; the reviewer's paranoid mode). */
  verifyCache?: boolean;
  signal?: AbortSignal;
  onEvent?: RunEventListener;
  /** Builds every stage that must run (default: LocalExecutor). */
  executor?: Executor;
  /** Picks the executor per stage (from its `executor:` settings); wins over `executor`. */
  executorFor?: (stage: PlannedStage) => Executor;
  /** Update `<pipeline>.lock.yaml` (default true). */
  writeLock?: boolean;
  /** Write a run record under runs/history (default true). */
  writeHistory?: boolean;
  argv?: string[];
}

export interface StageResult {
  id: string;
  type: string;
  outcome: StageOutcome;
  key?: StageKey;
  digest?: OutputDigest;
  durationMs: number;
  error?: { code: FailureCode; message: string; cause?: unknown };
  entry?: CacheEntry;
  /** A dry run's stage that a real run would execute (its outcome stays 'skipped'). */
  wouldRun?: boolean;
}

export interface RunSummary {
  runId: string;
  status: 'ok' | 'failed' | 'cancelled';
  results: Map<string, StageResult>;
  lockFile?: string;
  historyFile?: string;
  durationMs: number;
}

/** Marks a stage that cannot give an artifact (failed, skipped, cancelled or dry-run pending). */
const NO_ARTIFACT = Symbol('no-artifact');
type Produced = ArtifactRef | typeof NO_ARTIFACT;

/**
 * Runs what is stale in a pipeline: every selected stage (and what it needs) in dependency
 * order, each either found in the cache by its key or executed and published atomically.
 */
export async function runPipeline(
  pipeline: LoadedPipeline,
  store: ArtifactStore,
  registry: StageRegistry,
  options: RunOptions = {},
): Promise<RunSummary> {
  const started = Date.now();
  const runId = `${new Date(started).toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
  const emit = (event: RunEvent): void => options.onEvent?.(event);
  const { targets, forced } = selectStages(pipeline, options);
  const jobs = options.jobs ?? 1;
  const gate = new StageGate(jobs);
  const defaultExecutor = options.executor ?? new LocalExecutor(registry);
  const executorFor = options.executorFor ?? ((): Executor => defaultExecutor);
  const totalThreads = options.threads ?? Math.max(1, cpus().length);
  const lockOptions = { parsedCacheDir: join(store.runsDir, 'index', 'locks') };
  const previousLock = readPipelineLock(lockFilePath(pipeline.file), lockOptions);
  const results = new Map<string, StageResult>();
  const keyInputsById = new Map<string, StageKeyInputs>();
  const memo = new Map<string, Promise<Produced>>();
  const depDigests = new DepDigests();
  /** Keys earlier runs of this pipeline ran or found cached here (read once, only when needed). */
  const builtHere = new BuiltHere(store.runsDir, pipeline.name);
  // `halt` stops NEW stages: after a stage failure (unless keepGoing), an error of the run itself,
  // or the caller's signal. `abortRunning` cancels the stages already running, and only for the
  // caller's signal or an error of the run itself: like make without -k, a stage failure lets the
  // stages already running finish and publish, so their work is not lost.
  const halt = new AbortController();
  const abortRunning = new AbortController();
  const onOuterAbort = (): void => {
    halt.abort(options.signal?.reason);
    abortRunning.abort(options.signal?.reason);
  };
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (options.signal?.aborted) onOuterAbort();
  const cancelled = (): boolean => options.signal?.aborted === true;

  if (!options.dryRun) {
    await store.sweepStaging();
    sweepStaleKeyLocks(store);
  }
  // What this run produces or reads, leased so that a gc meanwhile leaves it alone (lease.ts).
  const lease = options.dryRun ? undefined : RunLease.open(store);
  emit({ type: 'run-start', runId, pipeline: pipeline.name, stages: targets.map((id) => ({ id, type: pipeline.stages.get(id)!.type })), dryRun: options.dryRun === true });

  const finish = (result: StageResult): void => {
    results.set(result.id, result);
  };

  const process = (id: string): Promise<Produced> => {
    let p = memo.get(id);
    if (!p) {
      // An error outside a stage's run (a dep deleted since load, a corrupt cache entry) ends the
      // run: stop starting stages now, so that no stage keeps running after runPipeline rejects.
      p = processStage(id).catch((err: unknown) => {
        halt.abort(err);
        abortRunning.abort(err);
        throw err;
      });
      memo.set(id, p);
    }
    return p;
  };

  const processStage = async (id: string): Promise<Produced> => {
    const stage = pipeline.stages.get(id)!;
    const upstream = await Promise.all(stage.needs.map(process));
    const missing = stage.needs.filter((_, i) => upstream[i] === NO_ARTIFACT);
    if (missing.length > 0) {
      const reason = options.dryRun ? `waits for ${missing.join(', ')}` : `upstream ${missing.join(', ')} did not complete`;
      if (options.dryRun) emit({ type: 'stage-would-run', id, reasons: [reason] });
      else emit({ type: 'stage-skipped', id, reason });
      finish({ id, type: stage.type, outcome: 'skipped', durationMs: 0, ...(options.dryRun ? { wouldRun: true } : {}) });
      return NO_ARTIFACT;
    }
    const inputs = upstream as ArtifactRef[];
    const inputDigests: Record<string, OutputDigest> = {};
    for (const ref of inputs) inputDigests[ref.stageId] = ref.digest;
    const keyInputs = await stageKeyInputs(stage, inputDigests, pipeline.dir, pipeline.seed, depDigests);
    const key = stageKey(keyInputs);
    keyInputsById.set(id, keyInputs);
    await lease?.hold(key);
    const toRef = (entry: CacheEntry): ArtifactRef => ({
      stageId: id,
      type: stage.type,
      kind: producedKind(stage),
      dir: entry.outDir,
      digest: entry.record.outputDigest,
      key,
      upstream: inputs,
    });
    const isForced = forced.has(id);
    if (!isForced) {
      const entry = await store.lookup(key, { verify: options.verifyCache });
      if (entry) {
        emit({ type: 'stage-cached', id, key, digest: entry.record.outputDigest });
        finish({ id, type: stage.type, outcome: 'cached', key, digest: entry.record.outputDigest, durationMs: 0, entry });
        return toRef(entry);
      }
    }
    const reasons = isForced ? ['forced'] : missReasons(previousLock?.stages[id], keyInputs, key, builtHere);
    if (options.dryRun) {
      emit({ type: 'stage-would-run', id, reasons });
      finish({ id, type: stage.type, outcome: 'skipped', key, durationMs: 0, wouldRun: true });
      return NO_ARTIFACT;
    }
    // Checked before queueing and again when the gate lets the stage start.
    const halted = (): boolean => {
      if (!halt.signal.aborted) return false;
      const outcome: StageOutcome = cancelled() ? 'cancelled' : 'skipped';
      if (outcome === 'cancelled') emit({ type: 'stage-cancelled', id });
      else emit({ type: 'stage-skipped', id, reason: 'an earlier stage failed (use --keep-going to run independent stages)' });
      finish({ id, type: stage.type, outcome, key, durationMs: 0 });
      return true;
    };
    if (halted()) return NO_ARTIFACT;
    emit({ type: 'stage-queued', id });
    const executor = executorFor(stage);
    // Stages that run on this machine share its cores through the gate; a cluster executor
    // limits its own jobs in flight.
    const admit = (fn: () => Promise<Produced>): Promise<Produced> => (executor.inProcess ? gate.run(stage.definition.exclusive === true, fn) : fn());
    return admit(async () => {
      if (halted()) return NO_ARTIFACT;
      const t0 = Date.now();
      try {
        const entry = await executeStage(stage, key, inputs, reasons, isForced, executor);
        if (entry.cachedByOther) {
          emit({ type: 'stage-cached', id, key, digest: entry.entry.record.outputDigest });
          finish({ id, type: stage.type, outcome: 'cached', key, digest: entry.entry.record.outputDigest, durationMs: 0, entry: entry.entry });
        } else {
          const durationMs = Date.now() - t0;
          emit({ type: 'stage-done', id, key, digest: entry.entry.record.outputDigest, durationMs });
          finish({ id, type: stage.type, outcome: 'ran', key, digest: entry.entry.record.outputDigest, durationMs, entry: entry.entry });
        }
        return toRef(entry.entry);
      } catch (err) {
        const durationMs = Date.now() - t0;
        if (cancelled()) {
          emit({ type: 'stage-cancelled', id });
          finish({ id, type: stage.type, outcome: 'cancelled', key, durationMs });
          return NO_ARTIFACT;
        }
        const error = describeFailure(err, id);
        emit({ type: 'stage-failed', id, code: error.code, message: error.message, durationMs });
        finish({ id, type: stage.type, outcome: 'failed', key, durationMs, error });
        if (!options.keepGoing) halt.abort(new UserError('cancelled', `stopped: stage "${id}" failed`));
        return NO_ARTIFACT;
      }
    });
  };

  const executeStage = async (
    stage: PlannedStage,
    key: StageKey,
    inputs: ArtifactRef[],
    reasons: string[],
    isForced: boolean,
    executor: Executor,
  ): Promise<{ entry: CacheEntry; cachedByOther: boolean }> => {
    const lock = await acquireKeyLock(store, key, {
      wait: options.wait !== false,
      signal: options.signal,
      onWait: (holder) => emit({ type: 'stage-waiting-lock', id: stage.id, holder: `pid ${holder.pid} on ${holder.hostname}` }),
    });
    try {
      // Another process may have published this key while we waited for the lock.
      const existing = await store.lookup(key);
      if (existing && !isForced) return { entry: existing, cachedByOther: true };
      // Work left by an interrupted run of this key (checkpoints, teacher answers): the stage resumes it.
      const workDir = store.workDir(key);
      const resuming = readdirSync(workDir).length > 0;
      emit({ type: 'stage-start', id: stage.id, key, reasons: resuming ? [`resumes an interrupted run (its work is kept in ${workDir})`, ...reasons.filter((r) => r !== 'new stage')] : reasons });
      const keyInputs = keyInputsById.get(stage.id)!;
      const task: StageTask = {
        key,
        stageId: stage.id,
        type: stage.type,
        version: stage.definition.version,
        pipeline: pipeline.name,
        params: stage.params,
        inputs,
        pipelineDir: pipeline.dir,
        seed: stageSeed(pipeline.seed, stage),
        threads: stage.definition.exclusive ? totalThreads : Math.max(1, Math.floor(totalThreads / jobs)),
        record: { params: keyInputs.params, inputs: keyInputs.inputs, deps: keyInputs.deps },
        replace: existing !== undefined,
        shellParams: stage.definition.shellParams ? [...stage.definition.shellParams] : undefined,
      };
      const meter = new ProgressMeter();
      const entry = await executor.build(task, {
        store,
        callbacks: {
          progress: (done, total, note) => emit({ type: 'stage-progress', id: stage.id, done, total, note, ...meter.sample(done, total) }),
          log: (level, message) => emit({ type: 'stage-log', id: stage.id, level, message: redactSecrets(message) }),
        },
        signal: abortRunning.signal,
        settings: stage.executor ?? { kind: 'local' },
      });
      return { entry, cachedByOther: false };
    } finally {
      lock.release();
    }
  };

  const settled = await Promise.allSettled(targets.map(process));
  lease?.release();
  options.signal?.removeEventListener('abort', onOuterAbort);
  const thrown = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (thrown) throw thrown.reason;

  const counts: Record<StageOutcome, number> = { cached: 0, ran: 0, failed: 0, skipped: 0, cancelled: 0 };
  let wouldRun = 0;
  for (const r of results.values()) {
    if (r.wouldRun) wouldRun++;
    else counts[r.outcome]++;
  }
  const status: RunSummary['status'] = cancelled() ? 'cancelled' : counts.failed > 0 ? 'failed' : 'ok';
  const summary: RunSummary = { runId, status, results, durationMs: Date.now() - started };
  if (!options.dryRun) {
    if (options.writeLock !== false) summary.lockFile = await updateLockFile(pipeline, previousLock, results, keyInputsById, lockOptions);
    if (options.writeHistory !== false) {
      const record: RunRecord = {
        id: runId,
        pipeline: pipeline.name,
        file: pipeline.file,
        startedAt: new Date(started).toISOString(),
        finishedAt: new Date().toISOString(),
        status,
        argv: options.argv ?? [],
        ...(pipeline.overrides ? { overrides: pipeline.overrides } : {}),
        stages: targets.map((id) => {
          const r = results.get(id);
          return {
            id,
            type: pipeline.stages.get(id)!.type,
            key: r?.key ?? '',
            outcome: r?.outcome ?? 'skipped',
            durationMs: r?.durationMs ?? 0,
            ...(r?.digest ? { outputDigest: r.digest } : {}),
            ...(r?.error ? { error: r.error.message } : {}),
          };
        }),
      };
      summary.historyFile = writeRunRecord(store.runsDir, record);
    }
  }
  emit({ type: 'run-end', runId, status, counts, ...(options.dryRun ? { wouldRun } : {}), durationMs: summary.durationMs });
  return summary;
}

/** Records every stage that has an artifact now; keeps earlier entries of stages not touched. */
async function updateLockFile(
  pipeline: LoadedPipeline,
  previous: PipelineLock | undefined,
  results: Map<string, StageResult>,
  keyInputsById: Map<string, StageKeyInputs>,
  lockOptions: LockReadOptions,
): Promise<string | undefined> {
  const path = lockFilePath(pipeline.file);
  const stages: Record<string, LockedStage> = {};
  for (const [id, stage] of pipeline.stages) {
    const r = results.get(id);
    const keyInputs = keyInputsById.get(id);
    if (r?.entry && keyInputs && (r.outcome === 'ran' || r.outcome === 'cached')) {
      const files = r.entry.record.files;
      stages[id] = {
        type: stage.type,
        version: stage.definition.version,
        key: r.entry.key,
        params: keyInputs.params,
        inputs: keyInputs.inputs,
        deps: keyInputs.deps,
        outputs: { digest: r.entry.record.outputDigest, files: files.length, bytes: files.reduce((s, f) => s + f.size, 0) },
        // An entry published before summaries existed gets them from its outputs now.
        check: stageCheckOf(r.entry.record.summaries ? r.entry.record : { files, summaries: await summariseOutputs(r.entry.outDir, files) }),
      };
    } else if (previous?.stages[id]) {
      stages[id] = previous.stages[id]!;
    }
  }
  if (Object.keys(stages).length === 0) return undefined;
  const lock: PipelineLock = { version: LOCK_VERSION, pipeline: pipeline.name, stages };
  // Rewrite only on change: the lock file sits beside the pipeline, where editors and watchers look.
  if (!previous || !sameLock(previous, lock)) writePipelineLock(path, lock, lockOptions);
  return path;
}

/** The failure as recorded (run history) and shown (events): known secrets redacted (core/secrets.ts). */
function describeFailure(err: unknown, stageId: string): { code: FailureCode; message: string; cause?: unknown } {
  if (err instanceof PolypersonaError) return { code: err.code, message: redactSecrets(err.message), cause: err };
  if (err instanceof Error) return { code: 'stage-threw', message: redactSecrets(`stage "${stageId}" threw: ${err.message}`), cause: err };
  return { code: 'stage-threw', message: redactSecrets(`stage "${stageId}" threw: ${String(err)}`), cause: err };
}

