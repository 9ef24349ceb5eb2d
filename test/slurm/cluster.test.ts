/**
 * The slurm executor on a real one-node SLURM cluster (test/slurm/cluster.sh): results equal a
 * local run's, and each fault — a failing job, an outside scancel, slurmctld restarted, a node
 * drained or lost, the submitting run terminated or killed — ends in a clear stage failure or a
 * retry, with nothing in the cache that is not whole. One file, run in order: draining the only
 * node would disturb any other test using the cluster at the same time.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArtifactStore, verifyEntry, type StageKey } from '../../src/engine/store/index.js';
import { parsePipeline } from '../../src/engine/pipeline/index.js';
import { runPipeline, type RunOptions, type RunSummary } from '../../src/engine/scheduler.js';
import { readTicket } from '../../src/engine/executors/ticket.js';
import { builtinRegistry } from '../../stages/index.js';
import { exitOf, spawnCli } from '../helpers/spawn-cli.js';
import { ClusterProject, clusterScript, gatedStage, jobsNamed, nodeState, nodeUsable, skipReason, slurm, slurmEnv, slurmExecutor, until } from './rig.js';

const registry = builtinRegistry();
const reason = skipReason();
// The reporter folds skipped files into one line; say why where it shows.
if (reason) console.warn(`test/slurm: SLURM tests skipped — ${reason}`);
const projects: ClusterProject[] = [];
const project = (): ClusterProject => {
  const p = new ClusterProject();
  projects.push(p);
  return p;
};
afterEach(async () => {
  if (reason) return;
  // A failed test may leave a job waiting for its gate file: cancel everything (the cluster is this file's own).
  slurm('scancel', ['--me']);
  await until(() => slurm('squeue', ['--noheader', '--me', '--format=%i']).trim() === '');
  for (const p of projects.splice(0)) p.remove();
});
afterAll(() => {
  // Whatever a failed test left: the node back in service.
  if (!reason && /drain|down/.test(nodeState())) slurm('scontrol', ['update', 'nodename=ppnode', 'state=resume']);
});

const quiet: RunOptions = { writeLock: false, writeHistory: false };

function load(p: ClusterProject, text: string) {
  return parsePipeline(text, p.write('p.yaml', text), registry);
}

/** Every entry's files under a cache dir: key -> relative path -> content. */
function cacheContents(cacheDir: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const shard of readdirSync(cacheDir).filter((s) => /^[0-9a-f]{2}$/.test(s))) {
    for (const key of readdirSync(join(cacheDir, shard)).filter((k) => /^[0-9a-f]{64}$/.test(k))) {
      const files: Record<string, string> = {};
      const walk = (dir: string, prefix: string): void => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(dir, e.name), `${prefix}${e.name}/`);
          else files[`${prefix}${e.name}`] = readFileSync(join(dir, e.name), 'utf8');
        }
      };
      walk(join(cacheDir, shard, key, 'out'), '');
      out[key] = files;
    }
  }
  return out;
}

/** Every entry in the store is whole (its outputs hash to its record), and no staging is left. */
async function expectCacheWhole(store: ArtifactStore): Promise<void> {
  for (const entry of await store.list()) expect((await verifyEntry(entry)).ok).toBe(true);
  const staging = readdirSync(store.stagingDir, { withFileTypes: true }).map((d) => d.name);
  expect(staging).toEqual([]);
}

const EQUALITY_PIPELINE = [
  'version: 1',
  'name: cluster-equality',
  'params: { seed: 11 }',
  'executor: { kind: slurm, mem: 300M, time: "10" }',
  'stages:',
  '  personas:',
  '    uses: sample-personas',
  '    with: { source: synthetic, count: 6, records: 12, seed: ${{ params.seed }} }',
  '  dataset:',
  '    uses: synthesize-responses',
  '    needs: [personas]',
  '    with: { teacher: { kind: template } }',
  '  chatml:',
  '    uses: build-chatml',
  '    needs: [dataset]',
  '  sum:',
  '    run: sha256sum ${{ stages.chatml.outputs.dir }}/train.jsonl | cut -c1-64 > ${{ outputs.dir }}/train.sha256',
  '  cell:',
  '    matrix: { n: [1, 2] }',
  '    executor: { mem: "${{ matrix.n }}00M", cpus: 1 }',
  '    run: seq ${{ matrix.n }} > ${{ outputs.dir }}/seq.txt && echo "seed $POLYPERSONA_SEED" >> ${{ outputs.dir }}/seq.txt',
  '',
].join('\n');

describe.skipIf(reason)(`SLURM executor on the one-node cluster${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('a pipeline run as SLURM jobs equals a local run: same lock file, byte-identical outputs, cache hits both ways', async () => {
    const p = project();
    p.write('p.yaml', EQUALITY_PIPELINE);
    const env = slurmEnv();
    const local = await exitOf(spawnCli(['run', 'p.yaml', '--executor', 'local', '--runs-dir', 'runs-local'], p.dir, env));
    expect(local.code, local.stderr).toBe(0);
    const localLock = readFileSync(join(p.dir, 'p.lock.yaml'), 'utf8');
    const onCluster = await exitOf(spawnCli(['run', 'p.yaml', '--runs-dir', 'runs-slurm', '--jobs', '2'], p.dir, env));
    expect(onCluster.code, onCluster.stderr).toBe(0);
    expect(onCluster.stdout).toMatch(/ok: 6 ran, 0 cached/);
    expect(onCluster.stdout).toMatch(/submitted SLURM job \d+ \(pp-personas-[0-9a-f]{12}\)/);
    // The node's progress reaches the submitter's reporter (through the job's events file); the
    // line may carry a note or a rate ("3/3 · 3000 it/s") depending on how fast the events came.
    expect(onCluster.stdout).toMatch(/^personas: (\d+)\/\1( .*)?$/m);
    expect(readFileSync(join(p.dir, 'p.lock.yaml'), 'utf8')).toBe(localLock);
    const localCache = cacheContents(join(p.dir, 'runs-local', 'cache'));
    expect(Object.keys(localCache)).toHaveLength(6);
    expect(cacheContents(join(p.dir, 'runs-slurm', 'cache'))).toEqual(localCache);

    // Each cell asked SLURM for its own memory (executor: mem from the matrix value).
    const slurmStore = new ArtifactStore(join(p.dir, 'runs-slurm'));
    const cells = (await slurmStore.list()).filter((e) => e.record.stageId.startsWith('cell['));
    expect(cells.map((e) => e.record.provenance.executor)).toEqual(['slurm', 'slurm']);
    for (const cell of cells) {
      const shown = slurm('scontrol', ['show', 'job', '--oneliner', String(cell.record.provenance.slurmJobId)]);
      expect(shown).toContain(`MinMemoryNode=${cell.record.stageId === 'cell[1]' ? '100M' : '200M'}`);
    }
    await expectCacheWhole(slurmStore);

    // A stage cached by a cluster job is a local cache hit, and the other way round.
    const back = await exitOf(spawnCli(['run', 'p.yaml', '--executor', 'local', '--runs-dir', 'runs-slurm'], p.dir, env));
    expect(back.stdout).toMatch(/ok: 0 ran, 6 cached/);
    const forth = await exitOf(spawnCli(['run', 'p.yaml', '--runs-dir', 'runs-local'], p.dir, env));
    expect(forth.stdout).toMatch(/ok: 0 ran, 6 cached/);
    expect(forth.stdout).not.toContain('submitted SLURM job');
  });

  it('a job that fails: a stage failure that quotes the job log; nothing cached', async () => {
    const p = project();
    const pipeline = load(p, ['version: 1', 'stages:', '  bad:', '    run: echo "about to fail"; exit 3', ''].join('\n'));
    const store = new ArtifactStore(join(p.dir, 'runs'));
    const summary = await runPipeline(pipeline, store, registry, { ...quiet, executor: slurmExecutor() });
    const r = summary.results.get('bad')!;
    expect(r.outcome).toBe('failed');
    expect(r.error!.code).toBe('slurm-job-failed');
    expect(r.error!.message).toMatch(/^stage "bad" failed in SLURM job \d+ \(FAILED, exit code 1\): command stage "bad" failed: it exited with code 3/);
    expect(r.error!.message).toMatch(/\njob log \/.*\/job\.log, last \d+ lines:\n {2}stage bad \(command, key/);
    expect(r.error!.message).toContain('  info: about to fail');
    expect(await store.lookup(r.key!)).toBeUndefined();
    await expectCacheWhole(store);
  });

  it('a job cancelled from outside (scancel): a stage failure that says so; nothing cached', async () => {
    const p = project();
    const pipeline = load(p, ['version: 1', 'stages:', gatedStage('outside'), ''].join('\n'));
    const store = new ArtifactStore(join(p.dir, 'runs'));
    const running = runPipeline(pipeline, store, registry, { ...quiet, executor: slurmExecutor() });
    await until(() => p.exists('started-outside'));
    const [job] = jobsNamed(`pp-outside-${(await keyOf(pipeline, store, 'outside')).slice(0, 12)}`);
    slurm('scancel', [job!.id]);
    const r = (await running).results.get('outside')!;
    expect(r.error!.code).toBe('slurm-job-cancelled');
    expect(r.error!.message).toContain(`SLURM job ${job!.id} was cancelled outside polypersona`);
    expect(await store.lookup(r.key!)).toBeUndefined();
    await until(() => jobsNamed(`pp-outside-${r.key!.slice(0, 12)}`).every((j) => j.state === 'CANCELLED'));
    await expectCacheWhole(store);
  });

  it('slurmctld restarted while a job runs: the run waits for it and finishes', async () => {
    const p = project();
    const pipeline = load(p, ['version: 1', 'stages:', gatedStage('restart'), ''].join('\n'));
    const store = new ArtifactStore(join(p.dir, 'runs'));
    const running = runPipeline(pipeline, store, registry, { ...quiet, executor: slurmExecutor() });
    await until(() => p.exists('started-restart'));
    clusterScript('restart-ctld', process.env.POLYPERSONA_TEST_SLURM!);
    p.touch('go-restart');
    const summary = await running;
    expect(summary.status, summary.results.get('restart')!.error?.message).toBe('ok');
    expect(p.count('restart')).toBe(1);
    await expectCacheWhole(store);
  });

  it('a drained node: a job that cannot start fails clearly and is cancelled; one already running finishes', async () => {
    const p = project();
    const pipeline = load(p, ['version: 1', 'stages:', '  waits:', '    executor: { unavailable_timeout: 0 }', '    run: echo x >> counters/waits && echo ok > ${{ outputs.dir }}/x', gatedStage('drain'), ''].join('\n'));
    const store = new ArtifactStore(join(p.dir, 'runs'));
    try {
      // Drained with a job running: it keeps running and publishes.
      const running = runPipeline(pipeline, store, registry, { ...quiet, stages: ['drain'], executor: slurmExecutor() });
      await until(() => p.exists('started-drain'));
      slurm('scontrol', ['update', 'nodename=ppnode', 'state=drain', 'reason=polypersona-test']);
      p.touch('go-drain');
      expect((await running).status).toBe('ok');
      // A new job on the drained node never starts: the stage fails at once (unavailable_timeout 0).
      const summary = await runPipeline(pipeline, store, registry, { ...quiet, stages: ['waits'], executor: slurmExecutor() });
      const r = summary.results.get('waits')!;
      expect(r.error!.code).toBe('slurm-nodes-unavailable');
      // Slurm gives either "ReqNodeNotAvail, UnavailableNodes:ppnode" or "Nodes required for job are DOWN, DRAINED …".
      expect(r.error!.message).toMatch(/SLURM job \d+ cannot start: .* \[ppnode: drained \(polypersona-test\)\] \(waited 0 s, unavailable_timeout 0\)/);
      expect(p.count('waits')).toBe(0);
      await until(() => jobsNamed(`pp-waits-${r.key!.slice(0, 12)}`).every((j) => j.state === 'CANCELLED'));
      expect(await store.lookup(r.key!)).toBeUndefined();
    } finally {
      slurm('scontrol', ['update', 'nodename=ppnode', 'state=resume']);
      await until(nodeUsable);
    }
    await expectCacheWhole(store);
  });

  it('a node lost under a running job (NODE_FAIL): the stage is resubmitted and succeeds', async () => {
    const p = project();
    const pipeline = load(p, ['version: 1', 'stages:', gatedStage('lost', 'executor: { sbatch_args: ["--no-requeue"], retries: 1 }'), ''].join('\n'));
    const store = new ArtifactStore(join(p.dir, 'runs'));
    const events: string[] = [];
    const running = runPipeline(pipeline, store, registry, { ...quiet, executor: slurmExecutor(), onEvent: (e) => e.type === 'stage-log' && events.push(e.message) });
    await until(() => p.exists('started-lost'));
    // slurmctld kills the job on the node it marks down; the node returns at once (ReturnToService=2).
    slurm('scontrol', ['update', 'nodename=ppnode', 'state=down', 'reason=polypersona-test']);
    await until(() => events.some((m) => /ended NODE_FAIL .*resubmitting/.test(m)));
    await until(() => p.count('lost') === 2);
    p.touch('go-lost');
    const summary = await running;
    expect(summary.status, summary.results.get('lost')!.error?.message).toBe('ok');
    expect(p.count('lost')).toBe(2);
    await until(nodeUsable);
    await expectCacheWhole(store);
  });

  it('SIGTERM to the submitting run cancels its job (scancel) and caches nothing', async () => {
    const p = project();
    p.write('p.yaml', ['version: 1', 'executor: slurm', 'stages:', gatedStage('term'), ''].join('\n'));
    const child = spawnCli(['run', 'p.yaml'], p.dir, slurmEnv());
    const exited = exitOf(child);
    await until(() => p.exists('started-term'));
    child.kill('SIGTERM');
    const r = await exited;
    expect(r.code).toBe(130);
    const store = new ArtifactStore(join(p.dir, 'runs'));
    const key = await keyOf(load(p, readFileSync(join(p.dir, 'p.yaml'), 'utf8')), store, 'term');
    await until(() => jobsNamed(`pp-term-${key.slice(0, 12)}`).every((j) => j.state === 'CANCELLED'));
    expect(readTicket(store, key)).toBeUndefined();
    expect(await store.lookup(key)).toBeUndefined();
    await until(() => readdirSync(store.stagingDir).length === 0);
  });

  it('a killed submitting run (SIGKILL): the next run reattaches to its job; the stage runs once', async () => {
    const p = project();
    p.write('p.yaml', ['version: 1', 'executor: slurm', 'stages:', gatedStage('kill'), ''].join('\n'));
    const first = spawnCli(['run', 'p.yaml'], p.dir, slurmEnv());
    const firstExit = exitOf(first);
    await until(() => p.exists('started-kill'));
    first.kill('SIGKILL');
    await firstExit;
    const second = spawnCli(['run', 'p.yaml'], p.dir, slurmEnv());
    let out = '';
    second.stdout!.on('data', (d) => (out += d));
    const secondExit = exitOf(second);
    await until(() => out.includes('reattached to SLURM job'));
    p.touch('go-kill');
    const r = await secondExit;
    expect(r.code, r.stderr).toBe(0);
    expect(p.count('kill')).toBe(1);
    const store = new ArtifactStore(join(p.dir, 'runs'));
    const key = await keyOf(load(p, readFileSync(join(p.dir, 'p.yaml'), 'utf8')), store, 'kill');
    expect(jobsNamed(`pp-kill-${key.slice(0, 12)}`)).toHaveLength(1);
    expect(readTicket(store, key)).toBeUndefined();
    await expectCacheWhole(store);
  });
});

async function keyOf(pipeline: ReturnType<typeof parsePipeline>, store: ArtifactStore, id: string): Promise<StageKey> {
  const dry: RunSummary = await runPipeline(pipeline, store, registry, { ...quiet, dryRun: true });
  return dry.results.get(id)!.key!;
}
