/**
 * The slurm executor: each stage that must be built becomes one batch job running
 * `polypersona exec-job JOB.json` on a node, against the shared cache (job-file.ts). The
 * submitting run holds the key's writer lock while the job lives, tracks it with squeue /
 * scontrol, forwards its progress, and returns the entry the job published.
 *
 *   ticket? ──► reattach ──┐                    (a job left by a killed run of this key)
 *      │ none / dead       ▼
 *      └──► submit ──► track ──► COMPLETED ──► collect entry ──► done
 *              ▲         │  ├──► FAILED / TIMEOUT / OUT_OF_MEMORY ──► stage failure + job log
 *              │         │  ├──► CANCELLED (not by us) ──► stage failure
 *              │         │  ├──► pending on down/drained nodes past unavailable_timeout ──► scancel, failure
 *              └─────────┘  └──► NODE_FAIL / BOOT_FAIL / PREEMPTED ──► resubmit (settings.retries)
 *       run interrupted (Ctrl-C, a watch restart): scancel, then the stage reports cancelled
 *
 * slurmctld unreachable (restarting): keep asking, up to controllerTimeoutMs; the job itself runs on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { chmodSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { writeFileAtomic } from '../../../core/atomic.js';
import { StageFailure, unreachable } from '../../../core/errors.js';
import { packageRoot } from '../../../core/paths.js';
import type { BuildContext, Executor, StageTask } from '../../executor.js';
import type { CacheEntry } from '../../store/index.js';
import { slurmTimeSeconds } from '../settings.js';
import { jobFilesIn, JsonLinesTail, newJobDir, pruneJobDirs, tailLines, type JobFiles } from '../job-dir.js';
import { readJobResult, writeJobFile, type ExecJobResult } from '../job-file.js';
import { readTicket, removeTicket, writeTicket, type JobTicket } from '../ticket.js';
import { SlurmClient, SlurmUnreachableError, type JobQuery } from './client.js';
import { StatusBatcher } from './batcher.js';
import { describeExitCode, isUnavailableReason, phaseOf, type JobStatus } from './states.js';
import { jobNameFor, jobScript, sbatchArgs } from './script.js';

export interface SlurmExecutorOptions {
  client?: SlurmClient;
  /** argv that starts polypersona on a node. Default: this Node binary and the built CLI. */
  polypersona?: string[];
  /** Jobs one run keeps in the queue at once. Default 100. */
  maxJobs?: number;
  /**
   * Poll interval bounds (ms), default 100 → 5,000: between them a quarter of the time waited so
   * far, so a job's end is noticed at most ~25% late and a long job costs slurmctld little.
   */
  pollMs?: { min: number; max: number };
  /** How long slurmctld may stay unreachable before the stage fails (ms). Default 10 minutes. */
  controllerTimeoutMs?: number;
  /** How long a finished job's entry may take to become visible here (NFS attribute caches; ms). Default 90 s. */
  visibilityTimeoutMs?: number;
}

interface TrackedJob {
  id: string;
  name: string;
  files: JobFiles;
}

type JobEnd =
  | { kind: 'completed' }
  | { kind: 'failed' | 'cancelled' | 'lost'; status: JobStatus }
  | { kind: 'vanished' }
  | { kind: 'unavailable'; reason: string; partition?: string; waitedS: number };

const DEFAULT_UNAVAILABLE_S = 600;
const TAIL_LINES = 20;

export class SlurmExecutor implements Executor {
  readonly name = 'slurm';
  readonly inProcess = false;
  private readonly client: SlurmClient;
  private readonly batcher: StatusBatcher;
  private readonly polypersona: string[];
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly pollMs: { min: number; max: number };
  private readonly controllerTimeoutMs: number;
  private readonly visibilityTimeoutMs: number;
  private pruned = false;

  constructor(options: SlurmExecutorOptions = {}) {
    this.client = options.client ?? new SlurmClient();
    this.batcher = new StatusBatcher(this.client, 100);
    this.polypersona = options.polypersona ?? [process.execPath, join(packageRoot(), 'dist', 'src', 'cli', 'main.js')];
    this.limit = pLimit(options.maxJobs ?? 100);
    this.pollMs = options.pollMs ?? { min: 100, max: 5000 };
    this.controllerTimeoutMs = options.controllerTimeoutMs ?? 600_000;
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 90_000;
  }

  build(task: StageTask, ctx: BuildContext): Promise<CacheEntry> {
    return this.limit(async () => {
      if (!this.pruned) {
        this.pruned = true;
        pruneJobDirs(ctx.store);
      }
      const resumed = await this.resume(task, ctx);
      if (resumed) return resumed;
      const retries = ctx.settings.retries ?? 1;
      for (let attempt = 0; ; attempt++) {
        const job = await this.submit(task, ctx);
        const end = await this.track(job, task, ctx);
        if (end.kind === 'lost' && attempt < retries) {
          ctx.callbacks.log('warn', `SLURM job ${job.id} ended ${end.status.state} (the cluster lost it); resubmitting (${attempt + 1} of ${retries})`);
          continue;
        }
        return await this.finish(job, end, task, ctx);
      }
    });
  }

  /**
   * Reattaches to the job an earlier run left for this key (its ticket), when that job is still
   * queued, running, or finished with the entry published. Undefined when there is none to
   * reattach to (then the caller builds). A stale ticket is removed.
   */
  async resume(task: StageTask, ctx: BuildContext): Promise<CacheEntry | undefined> {
    const ticket = readTicket(ctx.store, task.key);
    if (!ticket || ticket.executor !== this.name) return undefined;
    const files = jobFilesIn(ticket.jobDir);
    const drop = (): undefined => {
      removeTicket(ctx.store, task.key);
      rmSync(files.dir, { recursive: true, force: true });
      return undefined;
    };
    let id = ticket.jobId;
    for (const since = Date.now(); id === undefined; ) {
      // Killed between sbatch and writing the id down: the name finds the job (if sbatch got that far).
      const found = await this.client.findByName(ticket.jobName);
      if (found !== 'unreachable') {
        if (found.length === 0) return drop();
        id = found.at(-1)!;
      } else if (Date.now() - since > this.controllerTimeoutMs) {
        throw new StageFailure('slurm-unreachable', `stage "${task.stageId}": the SLURM controller does not answer, so whether job ${ticket.jobName} still runs cannot be told; run again later`);
      } else await this.pause(this.interval(since), ctx.signal);
    }
    const job: TrackedJob = { id, name: ticket.jobName, files };
    const status = (await this.client.query([job.id])).get(job.id)!;
    if (status === 'unknown') {
      // Ended long ago. Published: the caller missed the entry (NFS caching), or it was removed since.
      if (readJobResult(files.result)?.status === 'published') {
        const entry = await ctx.store.lookup(task.key);
        if (entry) {
          removeTicket(ctx.store, task.key);
          return entry;
        }
      }
      return drop();
    }
    if (status !== 'unreachable' && phaseOf(status.state) !== 'active' && phaseOf(status.state) !== 'completed') return drop();
    ctx.callbacks.log('info', `reattached to SLURM job ${job.id} (${job.name}), submitted by pid ${ticket.submitter.pid} on ${ticket.submitter.hostname} at ${ticket.submittedAt}`);
    const end = await this.track(job, task, ctx);
    if (end.kind === 'lost') {
      removeTicket(ctx.store, task.key);
      return undefined;
    }
    return this.finish(job, end, task, ctx);
  }

  private async submit(task: StageTask, ctx: BuildContext): Promise<TrackedJob> {
    const { store, settings } = ctx;
    const files = newJobDir(store, task.key);
    const name = jobNameFor(task.stageId, task.key);
    writeJobFile(files.jobFile, {
      format: 'polypersona-exec-job',
      version: 1,
      store: { runs_dir: store.runsDir, cache_dir: store.cacheDir, work_dir: store.workRoot },
      lock: 'caller',
      result: files.result,
      events: files.events,
      executor: this.name,
      // The job's threads follow what it asked SLURM for, not this machine's cores.
      task: { ...task, threads: settings.cpus ?? 1 },
    });
    const input = { stageId: task.stageId, key: task.key, jobName: name, jobFile: files.jobFile, logFile: files.log, chdir: task.pipelineDir, polypersona: this.polypersona, settings };
    const args = sbatchArgs(input);
    writeFileAtomic(files.script, jobScript(input, args));
    chmodSync(files.script, 0o755);
    const ticket: JobTicket = { executor: this.name, jobName: name, jobDir: files.dir, submitter: { pid: process.pid, hostname: hostname() }, submittedAt: new Date().toISOString() };
    writeTicket(store, task.key, ticket);
    let id: string;
    const since = Date.now();
    for (;;) {
      try {
        id = await this.client.submit(args, files.script);
        break;
      } catch (err) {
        if (!(err instanceof SlurmUnreachableError) || Date.now() - since > this.controllerTimeoutMs) {
          removeTicket(store, task.key);
          throw err;
        }
        // The submission may have gone through before the reply was lost: look for it by name.
        const found = await this.client.findByName(name);
        if (found !== 'unreachable' && found.length > 0) {
          id = found.at(-1)!;
          break;
        }
        await this.pause(this.interval(since), ctx.signal);
      }
    }
    writeTicket(store, task.key, { ...ticket, jobId: id });
    ctx.callbacks.log('info', `submitted SLURM job ${id} (${name})`);
    return { id, name, files };
  }

  /** Watches a job until it ends (or must be given up on); scancels it when the run is interrupted. */
  private async track(job: TrackedJob, task: StageTask, ctx: BuildContext): Promise<JobEnd> {
    const events = new JsonLinesTail(job.files.events);
    const forward = (): void => {
      for (const e of events.read()) {
        if (e.t === 'progress' && typeof e.done === 'number') ctx.callbacks.progress(e.done, typeof e.total === 'number' ? e.total : undefined, typeof e.note === 'string' ? e.note : undefined);
        else if (e.t === 'log' && typeof e.message === 'string') ctx.callbacks.log(e.level === 'warn' ? 'warn' : e.level === 'debug' ? 'debug' : 'info', e.message);
      }
    };
    const unavailableS = ctx.settings.unavailable_timeout === undefined ? DEFAULT_UNAVAILABLE_S : slurmTimeSeconds(ctx.settings.unavailable_timeout);
    let unreachableSince: number | undefined;
    let warnedUnreachable = false;
    let unavailableSince: number | undefined;
    let lastState = '';
    const since = Date.now();
    try {
      for (;;) {
        ctx.signal.throwIfAborted();
        const status = await this.status(job.id);
        forward();
        if (status === 'unreachable') {
          unreachableSince ??= Date.now();
          if (!warnedUnreachable) ctx.callbacks.log('warn', `the SLURM controller does not answer; still waiting for job ${job.id}`);
          warnedUnreachable = true;
          if (Date.now() - unreachableSince > this.controllerTimeoutMs) {
            throw new StageFailure(
              'slurm-unreachable',
              `stage "${task.stageId}": the SLURM controller did not answer for ${Math.round(this.controllerTimeoutMs / 1000)} s while job ${job.id} was queued or running; ` +
                `the job may still finish (a later run reattaches to it)`,
            );
          }
        } else if (status === 'unknown') {
          return { kind: 'vanished' };
        } else {
          if (unreachableSince !== undefined) ctx.callbacks.log('info', `the SLURM controller answers again; job ${job.id} is ${status.state}`);
          unreachableSince = undefined;
          warnedUnreachable = false;
          if (status.state !== lastState) {
            lastState = status.state;
            ctx.callbacks.log('debug', `SLURM job ${job.id}: ${status.state}${status.reason && status.reason !== 'None' ? ` (${status.reason})` : ''}`);
          }
          const phase = phaseOf(status.state);
          if (phase === 'completed') return { kind: 'completed' };
          if (phase !== 'active') return { kind: phase, status: await this.detail(job.id, status) };
          if (status.state === 'PENDING' && isUnavailableReason(status.reason)) {
            unavailableSince ??= Date.now();
            const waitedS = (Date.now() - unavailableSince) / 1000;
            if (waitedS >= unavailableS) return { kind: 'unavailable', reason: status.reason, ...(status.partition ? { partition: status.partition } : {}), waitedS };
          } else unavailableSince = undefined;
        }
        await this.pause(this.interval(since), ctx.signal);
      }
    } catch (err) {
      if (!ctx.signal.aborted) throw err;
      await this.cancel(job, task, ctx);
      throw ctx.signal.reason;
    }
  }

  /** Acts on how a job ended: the published entry, or a stage failure that says why. */
  private async finish(job: TrackedJob, end: JobEnd, task: StageTask, ctx: BuildContext): Promise<CacheEntry> {
    const { store } = ctx;
    const result = readJobResult(job.files.result);
    switch (end.kind) {
      case 'completed':
      case 'vanished': {
        const entry = await this.collect(job, task, ctx, end.kind === 'vanished');
        removeTicket(store, task.key);
        rmSync(job.files.dir, { recursive: true, force: true });
        return entry;
      }
      case 'unavailable': {
        await this.client.cancel(job.id).catch(() => undefined);
        removeTicket(store, task.key);
        const nodes = /UnavailableNodes:(\S+)/.exec(end.reason)?.[1];
        const which = nodes ? { nodes } : end.partition ? { partition: end.partition } : undefined;
        const described = which ? await this.client.describeNodes(which).catch(() => undefined) : undefined;
        throw new StageFailure(
          'slurm-nodes-unavailable',
          `stage "${task.stageId}": SLURM job ${job.id} cannot start: ${end.reason}${described ? ` [${described}]` : ''} (waited ${Math.round(end.waitedS)} s, unavailable_timeout ${ctx.settings.unavailable_timeout ?? '10'}); ` +
            `it was cancelled. Resume the nodes (scontrol update nodename=… state=resume), choose another partition, or raise unavailable_timeout, then run again.`,
        );
      }
      case 'cancelled':
        removeTicket(store, task.key);
        throw new StageFailure(
          'slurm-job-cancelled',
          `stage "${task.stageId}": SLURM job ${job.id} was cancelled outside polypersona (scancel, or an administrator); nothing was published. Run again to resubmit.${this.logTail(job)}`,
        );
      case 'failed':
      case 'lost': {
        removeTicket(store, task.key);
        throw new StageFailure(end.kind === 'lost' ? 'slurm-job-lost' : 'slurm-job-failed', this.failureMessage(job, end.status, result, task, ctx));
      }
      default: {
        return unreachable(end);
      }
    }
  }

  /** The entry a finished job published; waits out NFS caching for up to visibilityTimeoutMs. */
  private async collect(job: TrackedJob, task: StageTask, ctx: BuildContext, vanished: boolean): Promise<CacheEntry> {
    const since = Date.now();
    const deadline = since + this.visibilityTimeoutMs;
    for (;;) {
      const entry = await ctx.store.lookup(task.key);
      if (entry) return entry;
      const result = readJobResult(job.files.result);
      if (result && result.status !== 'published' && result.status !== 'cached') {
        removeTicket(ctx.store, task.key);
        throw new StageFailure('slurm-job-failed', `stage "${task.stageId}" failed in SLURM job ${job.id}: ${result.error?.message ?? result.status}${this.logTail(job)}`);
      }
      if (Date.now() > deadline || (vanished && !result)) {
        removeTicket(ctx.store, task.key);
        const why = vanished
          ? `SLURM no longer knows job ${job.id} and it left no result (its state was lost, e.g. slurmctld restarted without its state files)`
          : `SLURM job ${job.id} completed but no cache entry for key ${task.key.slice(0, 12)}… appeared within ${Math.round(this.visibilityTimeoutMs / 1000)} s (is the cache dir the same path on the nodes?)`;
        throw new StageFailure('slurm-no-entry', `stage "${task.stageId}": ${why}${this.logTail(job)}`);
      }
      await this.pause(this.interval(since), ctx.signal);
    }
  }

  private failureMessage(job: TrackedJob, status: JobStatus, result: ExecJobResult | undefined, task: StageTask, ctx: BuildContext): string {
    const exit = status.exitCode === '0:0' ? undefined : describeExitCode(status.exitCode);
    const state = status.state.split(/\s/)[0];
    const what =
      state === 'TIMEOUT'
        ? `it ran past its time limit (time: ${ctx.settings.time ?? 'the partition default'})`
        : state === 'OUT_OF_MEMORY'
          ? `it ran out of memory (mem: ${ctx.settings.mem ?? 'the cluster default'})`
          : state === 'NODE_FAIL' || state === 'BOOT_FAIL' || state === 'PREEMPTED'
            ? `the cluster lost it (${state}), and its retries (${ctx.settings.retries ?? 1}) are used up`
            : (result?.error?.message ?? `it ended ${state}${exit ? ` with ${exit}` : ''}`);
    return `stage "${task.stageId}" failed in SLURM job ${job.id} (${state}${exit ? `, ${exit}` : ''}): ${what}${this.logTail(job)}`;
  }

  private logTail(job: TrackedJob): string {
    const lines = tailLines(job.files.log, TAIL_LINES);
    if (lines.length === 0) return `\njob log: ${job.files.log} (empty)`;
    return `\njob log ${job.files.log}, last ${lines.length} lines:\n  ${lines.join('\n  ')}`;
  }

  private async status(id: string): Promise<JobQuery> {
    return this.batcher.status(id);
  }

  /** scontrol's fuller record of an ended job (its exit code), falling back to squeue's. */
  private async detail(id: string, status: JobStatus): Promise<JobStatus> {
    const shown = await this.client.show(id);
    return typeof shown === 'object' ? shown : status;
  }

  /** scancel for an interrupted run. The ticket stays when slurmctld cannot be told: the next run reattaches. */
  private async cancel(job: TrackedJob, task: StageTask, ctx: BuildContext): Promise<void> {
    try {
      await this.client.cancel(job.id);
      removeTicket(ctx.store, task.key);
      ctx.callbacks.log('info', `cancelled SLURM job ${job.id}`);
    } catch (err) {
      ctx.callbacks.log('warn', `could not cancel SLURM job ${job.id} (${(err as Error).message}); the next run reattaches to it`);
    }
  }

  /** The next poll's delay: a quarter of the time waited since `since`, within pollMs. */
  private interval(since: number): number {
    return Math.min(this.pollMs.max, Math.max(this.pollMs.min, (Date.now() - since) / 4));
  }

  private async pause(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await sleep(ms, undefined, { signal });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw err;
    }
  }
}
