import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runJob, runJobFile } from '../../../src/engine/executors/exec-job.js';
import { readJobResult, writeJobFile, type ExecJobFile } from '../../../src/engine/executors/job-file.js';
import type { BuildContext, Executor, StageTask } from '../../../src/engine/executor.js';
import { runPipeline } from '../../../src/engine/scheduler.js';
import { acquireKeyLock, type ArtifactStore, type CacheEntry } from '../../../src/engine/store/index.js';
import { CliRig } from '../../helpers/cli-rig.js';
import { COMMAND_PIPELINE, filesOf, keysAndDigests, Project, registry } from './fixtures.js';

const projects: Project[] = [];
const project = (): Project => {
  const p = new Project();
  projects.push(p);
  return p;
};
afterEach(() => {
  for (const p of projects.splice(0)) p.remove();
});

/** A job file for `task` against `store`, in dir. */
function jobFor(store: ArtifactStore, task: StageTask, dir: string, lock: 'caller' | 'job' = 'caller'): ExecJobFile {
  mkdirSync(dir, { recursive: true });
  return {
    format: 'polypersona-exec-job',
    version: 1,
    store: { runs_dir: store.runsDir, cache_dir: store.cacheDir, work_dir: store.workRoot },
    lock,
    result: join(dir, 'result.json'),
    events: join(dir, 'events.jsonl'),
    executor: 'job-files',
    task,
  };
}

/**
 * "Another scheduler": builds each stage by writing a job file and running it as exec-job does,
 * then reads the entry from the cache. It only uses the documented contract.
 */
class JobFileScheduler implements Executor {
  readonly name = 'job-files';
  readonly inProcess = false;
  readonly tasks: StageTask[] = [];
  constructor(private readonly dir: string) {}
  async build(task: StageTask, ctx: BuildContext): Promise<CacheEntry> {
    this.tasks.push(task);
    const jobDir = join(this.dir, `${task.key.slice(0, 8)}-${this.tasks.length}`);
    const file = join(jobDir, 'job.json');
    // Through the file, as a scheduler on another machine would see it.
    writeJobFile(file, JSON.parse(JSON.stringify(jobFor(ctx.store, task, jobDir))) as ExecJobFile);
    const result = await runJobFile(file, registry, { signal: ctx.signal });
    if (result.status !== 'published') throw new Error(`job ${result.status}: ${result.error?.message}`);
    return (await ctx.store.lookup(task.key))!;
  }
}

describe('exec-job: the executor contract', () => {
  it('builds through job files exactly what a local run builds: same keys, byte-identical outputs', async () => {
    const p = project();
    const pipeline = p.pipeline(COMMAND_PIPELINE);
    const local = await runPipeline(pipeline, p.store('local'), registry, { writeLock: false, writeHistory: false });
    const scheduler = new JobFileScheduler(join(p.dir, 'jobs'));
    const viaJobs = await runPipeline(pipeline, p.store('remote'), registry, { executor: scheduler, writeLock: false, writeHistory: false });
    expect(viaJobs.status).toBe('ok');
    expect(keysAndDigests(viaJobs)).toEqual(keysAndDigests(local));
    expect(Object.keys(keysAndDigests(local)).sort()).toEqual(['a', 'b', 'cell[1]', 'cell[3]']);
    for (const [id, r] of viaJobs.results) expect(filesOf(r.entry!)).toEqual(filesOf(local.results.get(id)!.entry!));
    expect(viaJobs.results.get('b')!.entry!.record.provenance).toMatchObject({ executor: 'job-files' });
    // The runtime expressions went over unresolved: each builder resolves them against its own staging dir.
    expect(JSON.stringify(scheduler.tasks.find((t) => t.stageId === 'b')!.params)).toContain('${{ outputs.dir }}');
    // The results say what happened; the scratch is gone.
    const results = readdirSync(join(p.dir, 'jobs')).map((d) => readJobResult(join(p.dir, 'jobs', d, 'result.json'))!);
    expect(results.map((r) => r.status)).toEqual(['published', 'published', 'published', 'published']);
    expect(readdirSync(p.store('remote').stagingDir)).toEqual([]);
  });

  it('finds an entry already in the cache and reports it cached, without running the stage', async () => {
    const p = project();
    const pipeline = p.pipeline(COMMAND_PIPELINE);
    const store = p.store();
    const scheduler = new JobFileScheduler(join(p.dir, 'jobs'));
    await runPipeline(pipeline, store, registry, { executor: scheduler, stages: ['a'], writeLock: false, writeHistory: false });
    expect(p.count('a')).toBe(1);
    const result = await runJob(jobFor(store, scheduler.tasks[0]!, join(p.dir, 'again')), registry, { signal: new AbortController().signal });
    expect(result).toMatchObject({ status: 'cached', key: scheduler.tasks[0]!.key });
    expect(p.count('a')).toBe(1);
  });

  it('with lock "job" takes the key’s writer lock itself, waiting for the holder', async () => {
    const p = project();
    const pipeline = p.pipeline(COMMAND_PIPELINE);
    const store = p.store();
    const scheduler = new JobFileScheduler(join(p.dir, 'jobs'));
    await runPipeline(pipeline, store, registry, { executor: scheduler, stages: ['a'], writeLock: false, writeHistory: false });
    const task = { ...scheduler.tasks[0]!, replace: true };
    const held = await acquireKeyLock(store, task.key, { wait: false });
    let waited!: () => void;
    const waiting = new Promise<void>((resolve) => (waited = resolve));
    const done = runJob(jobFor(store, task, join(p.dir, 'locked'), 'job'), registry, {
      signal: new AbortController().signal,
      log: (line) => {
        if (line.startsWith('waiting for pid')) waited();
      },
    });
    await waiting;
    expect(p.count('a')).toBe(1);
    held.release();
    expect((await done).status).toBe('published');
    expect(p.count('a')).toBe(2);
    expect(existsSync(store.lockPath(task.key))).toBe(false);
  });

  it('a failing stage: a failed result with the stage’s message, no entry, no staging left', async () => {
    const p = project();
    const pipeline = p.pipeline(['version: 1', 'stages:', '  bad:', '    run: echo "going wrong"; exit 3', ''].join('\n'));
    const store = p.store();
    const scheduler = new JobFileScheduler(join(p.dir, 'jobs'));
    const summary = await runPipeline(pipeline, store, registry, { executor: scheduler, writeLock: false, writeHistory: false });
    expect(summary.status).toBe('failed');
    const task = scheduler.tasks[0]!;
    const result = readJobResult(join(p.dir, 'jobs', `${task.key.slice(0, 8)}-1`, 'result.json'))!;
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({ code: 'command-failed', message: expect.stringContaining('command stage "bad" failed: it exited with code 3') });
    expect(result.error!.message).toContain('going wrong');
    expect(await store.lookup(task.key)).toBeUndefined();
    expect(readdirSync(store.stagingDir)).toEqual([]);
  });

  it('a cancelled job (SIGTERM from scancel) stops the stage: a cancelled result, nothing cached', async () => {
    const p = project();
    const pipeline = p.pipeline(['version: 1', 'stages:', '  slow:', '    run: touch started && while [ ! -e go ]; do sleep 0.05; done; echo late > ${{ outputs.dir }}/x', ''].join('\n'));
    const store = p.store();
    const scheduler = new JobFileScheduler(join(p.dir, 'jobs'));
    const dry = await runPipeline(pipeline, store, registry, { dryRun: true, writeLock: false, writeHistory: false });
    const key = dry.results.get('slow')!.key!;
    const task: StageTask = {
      key,
      stageId: 'slow',
      type: 'command',
      version: 1,
      pipeline: 'p',
      params: pipeline.stages.get('slow')!.params,
      inputs: [],
      pipelineDir: p.dir,
      seed: 1,
      threads: 1,
      record: { params: {}, inputs: {}, deps: {} },
      replace: false,
    };
    const controller = new AbortController();
    const done = runJob(jobFor(store, task, join(p.dir, 'cancel')), registry, { signal: controller.signal });
    await until(() => existsSync(join(p.dir, 'started')));
    controller.abort(new Error('SIGTERM'));
    const result = await done;
    expect(result.status).toBe('cancelled');
    expect(await store.lookup(key)).toBeUndefined();
    expect(readdirSync(store.stagingDir)).toEqual([]);
    expect(scheduler.tasks).toEqual([]);
  });
});

describe('polypersona exec-job', () => {
  it('exits 0 when it published, 1 with the stage’s error when the stage failed', async () => {
    const rig = new CliRig();
    try {
      const p = project();
      const good = p.pipeline(COMMAND_PIPELINE);
      const scheduler = new JobFileScheduler(join(p.dir, 'jobs'));
      const store = p.store();
      await runPipeline(good, store, registry, { executor: scheduler, stages: ['a'], writeLock: false, writeHistory: false });
      const task = { ...scheduler.tasks[0]!, replace: true };
      writeJobFile(join(p.dir, 'ok.json'), jobFor(store, task, join(p.dir, 'ok')));
      const ok = await rig.run(['exec-job', join(p.dir, 'ok.json')]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/^stage a \(command, key [0-9a-f]{12}…\) on /m);
      expect(ok.stdout).toMatch(/^published .* \(output digest [0-9a-f]{12}…\)$/m);
      const failing = { ...task, params: { ...task.params, run: 'echo nope >&2; exit 4' } };
      writeJobFile(join(p.dir, 'bad.json'), jobFor(store, failing, join(p.dir, 'bad')));
      const bad = await rig.run(['exec-job', join(p.dir, 'bad.json')]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('error: command stage "a" failed: it exited with code 4');
    } finally {
      rmSync(rig.dir, { recursive: true, force: true });
    }
  });

  it('a bad job file is a usage error naming the file and the field', async () => {
    const rig = new CliRig();
    projects.push({ remove: () => rmSync(rig.dir, { recursive: true, force: true }) } as Project);
    const write = (name: string, text: string): string => rig.write(name, text);
    const cases: Array<[string, string]> = [
      ['missing.json', ''],
      ['text.json', 'not json'],
      ['other.json', JSON.stringify({ format: 'something-else' })],
      ['relative.json', JSON.stringify({ format: 'polypersona-exec-job', version: 1, store: { runs_dir: 'runs', cache_dir: '/c', work_dir: '/w' } })],
      ['nokey.json', JSON.stringify({ format: 'polypersona-exec-job', version: 1, store: { runs_dir: '/r', cache_dir: '/c', work_dir: '/w' }, lock: 'caller', result: '/r/x', executor: 'slurm', task: { key: 'abc' } })],
    ];
    const expected = [
      'no such file',
      'not JSON',
      '"format" must be "polypersona-exec-job"',
      '"store.runs_dir" must be an absolute path',
      '"task.key" must be a stage key (64 hex characters)',
    ];
    for (const [i, [name, text]] of cases.entries()) {
      const path = name === 'missing.json' ? join(rig.dir, name) : write(name, text);
      const r = await rig.run(['exec-job', path]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error: job file ${path}: ${expected[i]}`);
    }
    const none = await rig.run(['exec-job']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('exec-job: give exactly one job file');
  });
});

/** Resolves once `cond` holds (checked every 20 ms): waits for an event the test cannot subscribe to. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}
