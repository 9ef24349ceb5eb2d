import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SlurmClient, type JobQuery } from '../../../../src/engine/executors/slurm/client.js';
import { SlurmExecutor } from '../../../../src/engine/executors/slurm/executor.js';
import { chooseExecutors } from '../../../../src/engine/executors/index.js';
import { runJobFile } from '../../../../src/engine/executors/exec-job.js';
import { readTicket, ticketPath, writeTicket } from '../../../../src/engine/executors/ticket.js';
import { newJobDir, type JobFiles } from '../../../../src/engine/executors/job-dir.js';
import { writeJobFile, writeJobResult } from '../../../../src/engine/executors/job-file.js';
import { runPipeline, type RunOptions } from '../../../../src/engine/scheduler.js';
import type { RunEvent } from '../../../../src/engine/events.js';
import type { LoadedPipeline } from '../../../../src/engine/pipeline/index.js';
import type { ArtifactStore, StageKey } from '../../../../src/engine/store/index.js';
import { COMMAND_PIPELINE, keysAndDigests, Project, registry } from '../fixtures.js';
import { testDigest } from '../../../helpers/fingerprints.js';

/**
 * The executor's decisions (state mapping, retries, reattaching, cancelling) against a stand-in
 * slurmctld: each submitted job runs its job file in this process through exec-job, as a node
 * would, and goes through the states its plan says. The real cluster is in test/slurm/.
 */
interface Plan {
  /** Polls the job stays PENDING before it starts. */
  pending?: number;
  /** Reason shown while PENDING. */
  reason?: string;
  /** How it ends instead of running: a lost node, an outside scancel, or never starting. */
  end?: 'NODE_FAIL' | 'CANCELLED-OUTSIDE' | 'STAY-PENDING';
}

interface FakeJob {
  id: string;
  name: string;
  jobFile: string;
  log: string;
  plan: Plan;
  polls: number;
  state: string;
  reason: string;
  exitCode: string;
  controller: AbortController;
  run?: Promise<void>;
}

class FakeSlurm extends SlurmClient {
  readonly jobs = new Map<string, FakeJob>();
  readonly submitted: string[] = [];
  readonly cancelled: string[] = [];
  /** Query answers to give as `unreachable` before answering again (a restarting slurmctld). */
  unreachable = 0;
  private next = 100;

  constructor(private readonly plans: Plan[] = []) {
    super();
  }

  override async submit(args: string[], script: string): Promise<string> {
    const id = String(this.next++);
    const arg = (name: string): string => args.find((a) => a.startsWith(`--${name}=`))!.slice(name.length + 3);
    const plan = this.plans[this.submitted.length] ?? {};
    this.submitted.push(id);
    this.jobs.set(id, { id, name: arg('job-name'), jobFile: script.replace(/job\.sh$/, 'job.json'), log: arg('output'), plan, polls: 0, state: 'PENDING', reason: plan.reason ?? 'None', exitCode: '0:0', controller: new AbortController() });
    return id;
  }

  override async query(ids: readonly string[]): Promise<Map<string, JobQuery>> {
    const out = new Map<string, JobQuery>();
    if (this.unreachable > 0) {
      this.unreachable--;
      for (const id of ids) out.set(id, 'unreachable');
      return out;
    }
    for (const id of ids) {
      const job = this.jobs.get(id);
      if (!job) {
        out.set(id, 'unknown');
        continue;
      }
      this.advance(job);
      out.set(id, { state: job.state, reason: job.reason });
    }
    return out;
  }

  override async show(id: string): Promise<JobQuery> {
    const job = this.jobs.get(id);
    return job ? { state: job.state, reason: job.reason, exitCode: job.exitCode } : 'unknown';
  }

  override async findByName(name: string): Promise<string[]> {
    return [...this.jobs.values()].filter((j) => j.name === name).map((j) => j.id);
  }

  override async cancel(id: string): Promise<void> {
    this.cancelled.push(id);
    const job = this.jobs.get(id);
    if (!job) return;
    job.controller.abort(new Error('SIGTERM'));
    await job.run;
    job.state = 'CANCELLED';
  }

  private advance(job: FakeJob): void {
    job.polls++;
    if (job.state !== 'PENDING' || job.plan.end === 'STAY-PENDING' || job.polls <= (job.plan.pending ?? 0)) return;
    if (job.plan.end === 'NODE_FAIL') {
      job.state = 'NODE_FAIL';
      return;
    }
    job.state = 'RUNNING';
    job.reason = 'None';
    job.run = runJobFile(job.jobFile, registry, { signal: job.controller.signal, log: (l) => appendFileSync(job.log, `${l}\n`), env: { SLURM_JOB_ID: job.id } }).then((r) => {
      if (job.state === 'CANCELLED') return;
      job.state = r.status === 'published' || r.status === 'cached' ? 'COMPLETED' : r.status === 'cancelled' ? 'CANCELLED' : 'FAILED';
      job.exitCode = r.status === 'failed' ? '1:0' : '0:0';
    });
    if (job.plan.end === 'CANCELLED-OUTSIDE') {
      job.controller.abort(new Error('SIGTERM'));
      job.state = 'CANCELLED';
    }
  }
}

const projects: Project[] = [];
const fakes: FakeSlurm[] = [];
afterEach(async () => {
  // A job cancelled from outside may still be winding down in this process.
  for (const f of fakes.splice(0)) await Promise.all([...f.jobs.values()].map((j) => j.run));
  for (const p of projects.splice(0)) p.remove();
});

function setup(plans: Plan[] = [], text = COMMAND_PIPELINE): { p: Project; pipeline: LoadedPipeline; store: ArtifactStore; slurm: FakeSlurm; executor: SlurmExecutor } {
  const p = new Project();
  projects.push(p);
  const slurm = new FakeSlurm(plans);
  fakes.push(slurm);
  return { p, pipeline: p.pipeline(text), store: p.store('runs', 'shared-cache'), slurm, executor: new SlurmExecutor({ client: slurm, pollMs: { min: 1, max: 4 }, visibilityTimeoutMs: 1000 }) };
}

const quiet: RunOptions = { writeLock: false, writeHistory: false };

function logs(events: RunEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'stage-log' ? [`${e.id}: ${e.message}`] : []));
}

const ONE_STAGE = ['version: 1', 'stages:', '  a:', '    run: echo x >> counters/a && echo alpha > ${{ outputs.dir }}/a.txt', ''].join('\n');

describe('SlurmExecutor decisions', () => {
  it('submits each stage that must run as one job, and returns what the job published', async () => {
    const { p, pipeline, store, slurm, executor } = setup([{ pending: 2 }]);
    const local = await runPipeline(pipeline, p.store('local'), registry, quiet);
    const events: RunEvent[] = [];
    const summary = await runPipeline(pipeline, store, registry, { ...quiet, executor, onEvent: (e) => events.push(e) });
    expect(summary.status).toBe('ok');
    expect(keysAndDigests(summary)).toEqual(keysAndDigests(local));
    expect(slurm.submitted).toHaveLength(4);
    expect(summary.results.get('a')!.entry!.record.provenance).toEqual({ executor: 'slurm', slurmJobId: '100' });
    expect(logs(events)).toContain('a: submitted SLURM job 100 (pp-a-' + summary.results.get('a')!.key!.slice(0, 12) + ')');
    // Done jobs leave no tickets and no job folders; work and staging live in the shared cache dir.
    for (const r of summary.results.values()) expect(existsSync(ticketPath(store, r.key!))).toBe(false);
    expect(readdirSync(join(store.cacheDir, '.jobs'))).toEqual([]);
    expect(store.cacheDir).toBe(join(p.dir, 'shared-cache'));
    // The entry is an ordinary cache hit for a local run.
    const again = await runPipeline(pipeline, store, registry, quiet);
    expect([...again.results.values()].map((r) => r.outcome)).toEqual(['cached', 'cached', 'cached', 'cached']);
  });

  it('a job that fails is a stage failure that quotes the stage’s error and the job log', async () => {
    const { pipeline, store, slurm, executor } = setup([], ['version: 1', 'stages:', '  bad:', '    run: echo "about to fail"; exit 3', ''].join('\n'));
    const summary = await runPipeline(pipeline, store, registry, { ...quiet, executor });
    const r = summary.results.get('bad')!;
    expect(r.outcome).toBe('failed');
    expect(r.error!.code).toBe('slurm-job-failed');
    expect(r.error!.message).toMatch(/^stage "bad" failed in SLURM job 100 \(FAILED, exit code 1\): command stage "bad" failed: it exited with code 3/);
    expect(r.error!.message).toMatch(/\njob log .*job\.log, last \d+ lines:\n/);
    expect(r.error!.message).toContain('\n  info: about to fail\n');
    expect(await store.lookup(r.key!)).toBeUndefined();
    expect(slurm.submitted).toEqual(['100']);
    // The failed job's folder stays for its log; its ticket is gone.
    expect(readdirSync(join(store.cacheDir, '.jobs'))).toHaveLength(1);
    expect(readTicket(store, r.key!)).toBeUndefined();
  });

  it('resubmits a job the cluster lost (NODE_FAIL) up to `retries` times', async () => {
    const once = setup([{ end: 'NODE_FAIL' }, {}], ONE_STAGE);
    const events: RunEvent[] = [];
    const ok = await runPipeline(once.pipeline, once.store, registry, { ...quiet, executor: once.executor, onEvent: (e) => events.push(e) });
    expect(ok.status).toBe('ok');
    expect(once.slurm.submitted).toEqual(['100', '101']);
    expect(logs(events)).toContain('a: SLURM job 100 ended NODE_FAIL (the cluster lost it); resubmitting (1 of 1)');
    expect(once.p.count('a')).toBe(1);

    const never = setup([{ end: 'NODE_FAIL' }], ONE_STAGE.replace('  a:\n', '  a:\n    executor: { retries: 0 }\n'));
    const failed = await runPipeline(never.pipeline, never.store, registry, { ...quiet, executor: never.executor });
    expect(failed.results.get('a')!.error).toMatchObject({ code: 'slurm-job-lost', message: expect.stringContaining('failed in SLURM job 100 (NODE_FAIL): the cluster lost it (NODE_FAIL), and its retries (0) are used up') });
  });

  it('gives up on a job waiting for drained nodes after unavailable_timeout, and cancels it', async () => {
    const reason = 'Nodes required for job are DOWN, DRAINED or reserved for jobs in higher priority partitions';
    const { pipeline, store, slurm, executor } = setup([{ end: 'STAY-PENDING', reason }], ONE_STAGE.replace('  a:\n', '  a:\n    executor: { unavailable_timeout: 0 }\n'));
    const summary = await runPipeline(pipeline, store, registry, { ...quiet, executor });
    const r = summary.results.get('a')!;
    expect(r.error!.code).toBe('slurm-nodes-unavailable');
    expect(r.error!.message).toContain(`SLURM job 100 cannot start: ${reason}`);
    expect(r.error!.message).toContain('Resume the nodes (scontrol update nodename=… state=resume)');
    expect(slurm.cancelled).toEqual(['100']);
    expect(readTicket(store, r.key!)).toBeUndefined();
  });

  it('waits out a controller that does not answer (a restart), then finishes', async () => {
    const { pipeline, store, slurm, executor } = setup([{ pending: 1 }], ONE_STAGE);
    slurm.unreachable = 5;
    const events: RunEvent[] = [];
    const summary = await runPipeline(pipeline, store, registry, { ...quiet, executor, onEvent: (e) => events.push(e) });
    expect(summary.status).toBe('ok');
    expect(logs(events)).toContain('a: the SLURM controller does not answer; still waiting for job 100');
    expect(logs(events).some((l) => l.startsWith('a: the SLURM controller answers again; job 100 is'))).toBe(true);
  });

  it('a job cancelled from outside is a stage failure that says so; nothing is cached', async () => {
    const { pipeline, store, executor } = setup([{ end: 'CANCELLED-OUTSIDE' }], ONE_STAGE);
    const summary = await runPipeline(pipeline, store, registry, { ...quiet, executor });
    const r = summary.results.get('a')!;
    expect(r.error!.code).toBe('slurm-job-cancelled');
    expect(r.error!.message).toContain('SLURM job 100 was cancelled outside polypersona (scancel, or an administrator); nothing was published');
    expect(await store.lookup(r.key!)).toBeUndefined();
  });

  it('an interrupted run scancels its jobs and leaves no ticket', async () => {
    const { pipeline, store, slurm, executor } = setup([{ end: 'STAY-PENDING' }], ONE_STAGE);
    const controller = new AbortController();
    const summary = await runPipeline(pipeline, store, registry, {
      ...quiet,
      executor,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'stage-log' && e.message.startsWith('submitted SLURM job')) controller.abort(new Error('cancelled by SIGINT'));
      },
    });
    expect(summary.status).toBe('cancelled');
    expect(slurm.cancelled).toEqual(['100']);
    expect(readTicket(store, summary.results.get('a')!.key!)).toBeUndefined();
  });

  it('reattaches to the job a killed run left behind instead of submitting it again', async () => {
    const { p, pipeline, store, slurm, executor } = setup([{ end: 'STAY-PENDING' }], ONE_STAGE);
    const key = (await runPipeline(pipeline, store, registry, { ...quiet, dryRun: true })).results.get('a')!.key!;
    // What a run killed with SIGKILL leaves: a ticket naming its job, still queued.
    const files = leaveOrphanJob(store, pipeline, key);
    const id = await slurm.submit([`--job-name=pp-a-${key.slice(0, 12)}`, `--output=${files.log}`], files.script);
    slurm.jobs.get(id)!.plan = { pending: 1 };
    const events: RunEvent[] = [];
    const summary = await runPipeline(pipeline, store, registry, { ...quiet, executor, onEvent: (e) => events.push(e) });
    expect(summary.status).toBe('ok');
    expect(slurm.submitted).toEqual([id]);
    expect(logs(events).find((l) => l.includes('reattached'))).toMatch(new RegExp(`^a: reattached to SLURM job ${id} \\(pp-a-[0-9a-f]{12}\\), submitted by pid 999999 on ${hostname()} at `));
    expect(p.count('a')).toBe(1);
  });

  it('run --executor local still reattaches to a live cluster job of the same key', async () => {
    const { p, pipeline, store, slurm } = setup([{ end: 'STAY-PENDING' }], ONE_STAGE);
    const key = (await runPipeline(pipeline, store, registry, { ...quiet, dryRun: true })).results.get('a')!.key!;
    const files = leaveOrphanJob(store, pipeline, key);
    const id = await slurm.submit([`--job-name=pp-a-${key.slice(0, 12)}`, `--output=${files.log}`], files.script);
    writeTicket(store, key, { ...readTicket(store, key)!, jobId: id });
    slurm.jobs.get(id)!.plan = {};
    const choose = chooseExecutors({ registry, override: 'local', slurm: { client: slurm, pollMs: { min: 1, max: 4 } } });
    const summary = await runPipeline(pipeline, store, registry, { ...quiet, executorFor: choose });
    expect(summary.status).toBe('ok');
    expect(summary.results.get('a')!.entry!.record.provenance).toMatchObject({ executor: 'slurm', slurmJobId: id });
    expect(p.count('a')).toBe(1);
  });

  it('a ticket whose job published an entry that is gone since (gc) is dropped, and the stage built anew', async () => {
    const { store, pipeline, slurm, executor } = setup([], ONE_STAGE);
    const key = (await runPipeline(pipeline, store, registry, { ...quiet, dryRun: true })).results.get('a')!.key!;
    const files = leaveOrphanJob(store, pipeline, key);
    writeTicket(store, key, { ...readTicket(store, key)!, jobId: '7' });
    writeJobResult(files.result, { format: 'polypersona-exec-job-result', version: 1, key, status: 'published', outputDigest: testDigest('x'), host: hostname(), pid: 1, startedAt: '', finishedAt: '' });
    const summary = await runPipeline(pipeline, store, registry, { ...quiet, executor });
    expect(summary.status).toBe('ok');
    expect(slurm.submitted).toEqual(['100']);
    expect(existsSync(files.dir)).toBe(false);
  });

  it('a ticket whose job is gone and left nothing is dropped, and the stage is built anew', async () => {
    const { store, pipeline, slurm, executor } = setup([], ONE_STAGE);
    const key = (await runPipeline(pipeline, store, registry, { ...quiet, dryRun: true })).results.get('a')!.key!;
    writeTicket(store, key, { executor: 'slurm', jobId: '7', jobName: 'pp-a-x', jobDir: join(store.cacheDir, '.jobs', 'gone'), submitter: { pid: 999999, hostname: hostname() }, submittedAt: new Date(0).toISOString() });
    const summary = await runPipeline(pipeline, store, registry, { ...quiet, executor });
    expect(summary.status).toBe('ok');
    expect(slurm.submitted).toEqual(['100']);
  });
});

/**
 * What a run killed with SIGKILL right after sbatch leaves: a job folder with the stage's job
 * file, and a ticket from a dead submitter that names the job but not yet its id.
 */
function leaveOrphanJob(store: ArtifactStore, pipeline: LoadedPipeline, key: StageKey): JobFiles {
  const files = newJobDir(store, key);
  const stage = pipeline.stages.get('a')!;
  writeJobFile(files.jobFile, {
    format: 'polypersona-exec-job',
    version: 1,
    store: { runs_dir: store.runsDir, cache_dir: store.cacheDir, work_dir: store.workRoot },
    lock: 'caller',
    result: files.result,
    events: files.events,
    executor: 'slurm',
    task: { key, stageId: 'a', type: 'command', version: stage.definition.version, pipeline: pipeline.name, params: stage.params, inputs: [], pipelineDir: pipeline.dir, seed: 1, threads: 1, record: { params: { ...stage.params, $seed: 0 }, inputs: {}, deps: {} }, replace: false },
  });
  writeTicket(store, key, { executor: 'slurm', jobName: `pp-a-${key.slice(0, 12)}`, jobDir: files.dir, submitter: { pid: 999999, hostname: hostname() }, submittedAt: new Date().toISOString() });
  return files;
}
