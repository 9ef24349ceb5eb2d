/**
 * gc against a run in progress (issue 11): run leases keep what a live run produced or is about
 * to read; gc never follows a symlink out of the cache; stale locks are recognised by more than
 * a pid and cleared by gc and the next run.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StageDefinition } from '../../../src/engine/contract.js';
import { parsePipeline } from '../../../src/engine/pipeline/index.js';
import { StageRegistry } from '../../../src/engine/registry.js';
import { runPipeline } from '../../../src/engine/scheduler.js';
import {
  acquireKeyLock,
  ArtifactStore,
  garbageCollect,
  RunLease,
  sweepStaleKeyLocks,
  withLeases,
  type LockHolder,
  type StageKey,
} from '../../../src/engine/store/index.js';
import { currentBootId, isOwnerGone, processStartTicks, selfOwner } from '../../../src/engine/store/owner.js';
import { draftFor, keyFor, tempRunsDir } from './fixtures.js';

let runsDir: string;
let store: ArtifactStore;
beforeEach(() => {
  runsDir = tempRunsDir();
  store = new ArtifactStore(runsDir);
});
afterEach(() => rmSync(dirname(runsDir), { recursive: true, force: true }));

/** pid above Linux's default pid_max: certainly not running. */
const DEAD_PID = 4_194_999;
const hasProc = processStartTicks(process.pid) !== undefined;

async function publish(n: number): Promise<void> {
  const s = await store.stage(keyFor(n));
  writeFileSync(join(s.outDir, 'data.txt'), `entry ${n}`);
  await store.publish(s, draftFor(keyFor(n)));
}

function writeLock(key: StageKey, holder: LockHolder): void {
  mkdirSync(dirname(store.lockPath(key)), { recursive: true });
  writeFileSync(store.lockPath(key), JSON.stringify(holder));
}

describe('run leases', () => {
  it('gc keeps the keys of a live lease, and removes them once it is released', async () => {
    for (const n of [1, 2, 3]) await publish(n);
    const lease = RunLease.open(store);
    await Promise.all([lease.hold(keyFor(1)), lease.hold(keyFor(2))]);
    const r = await garbageCollect(store, new Set(), { dryRun: false });
    expect(r.removed.map((e) => e.key)).toEqual([keyFor(3)]);
    expect(await store.listKeys()).toEqual([keyFor(1), keyFor(2)].sort());
    lease.release();
    lease.release(); // idempotent
    await garbageCollect(store, new Set(), { dryRun: false });
    expect(await store.listKeys()).toEqual([]);
    expect(readdirSync(join(runsDir, 'index', 'leases'))).toEqual([]);
  });

  it("ignores and deletes the lease of a run that is gone (killed)", async () => {
    await publish(1);
    const dir = join(runsDir, 'index', 'leases');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'dead.lease'), `${JSON.stringify({ pid: DEAD_PID, hostname: hostname() })}\n${keyFor(1)}\n`);
    // A lease of another host cannot be checked: it is honoured.
    writeFileSync(join(dir, 'remote.lease'), `${JSON.stringify({ pid: DEAD_PID, hostname: `not-${hostname()}` })}\n${keyFor(2)}\n`);
    await publish(2);
    await garbageCollect(store, new Set(), { dryRun: false });
    expect(await store.listKeys()).toEqual([keyFor(2)]);
    expect(readdirSync(dir)).toEqual(['remote.lease']);
  });

  it('a key leased while gc holds the leases lock waits for gc to finish', async () => {
    await publish(1);
    const lease = RunLease.open(store);
    let finishGc!: () => void;
    const gcMayFinish = new Promise<void>((r) => (finishGc = r));
    let gcStarted!: () => void;
    const started = new Promise<void>((r) => (gcStarted = r));
    const gc = withLeases(store, async (leased) => {
      gcStarted();
      expect(leased.has(keyFor(1))).toBe(false);
      await gcMayFinish;
      await store.remove(keyFor(1));
    });
    await started;
    let held = false;
    const holding = lease.hold(keyFor(1)).then(() => (held = true));
    // Let the hold try the lock a few times: it must not get it while gc is at work.
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 25));
    expect(held).toBe(false);
    finishGc();
    await gc;
    await holding;
    expect(held).toBe(true);
    // After the hold the entry is gone (gc came first): the run would look it up and rebuild it.
    expect(await store.lookup(keyFor(1))).toBeUndefined();
    lease.release();
  });
});

describe('gc during a run', () => {
  it('keeps a finished stage of the run in progress, so the stage that reads it succeeds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-gc-run-'));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let waiting!: () => void;
    const reached = new Promise<void>((r) => (waiting = r));
    const produce: StageDefinition = {
      type: 'produce',
      version: 1,
      description: 'writes a file',
      produces: 'files',
      paramsSchema: { type: 'object', properties: {} },
      async run(ctx) {
        writeFileSync(join(ctx.outDir, 'value.txt'), 'from a');
      },
    };
    const consume: StageDefinition = {
      type: 'consume',
      version: 1,
      description: 'waits for the test, then reads its input',
      produces: 'files',
      paramsSchema: { type: 'object', properties: {} },
      async run(ctx) {
        waiting();
        await gate;
        writeFileSync(join(ctx.outDir, 'value.txt'), readFileSync(join(Object.values(ctx.inputs)[0]!.dir, 'value.txt'), 'utf8') + ' via b');
      },
    };
    try {
      const registry = new StageRegistry().register(produce).register(consume);
      const file = join(dir, 'p.yaml');
      writeFileSync(file, 'version: 1\nstages:\n  a: { uses: produce }\n  b: { uses: consume, needs: [a] }\n');
      const own = new ArtifactStore(join(dir, 'runs'));
      const running = runPipeline(parsePipeline(readFileSync(file, 'utf8'), file, registry), own, registry, { writeLock: false, writeHistory: false });
      await reached;
      // a is published and referenced by no lock file or run record yet: only the lease keeps it.
      const gc = await garbageCollect(own, new Set(), { dryRun: false });
      expect(gc.removed).toEqual([]);
      release();
      const summary = await running;
      expect(summary.status).toBe('ok');
      expect(readFileSync(join(summary.results.get('b')!.entry!.outDir, 'value.txt'), 'utf8')).toBe('from a via b');
      expect(readdirSync(join(dir, 'runs', 'index', 'leases'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gc and symlinks', () => {
  it('never follows a symlinked shard folder or entry out of the cache', async () => {
    const outside = join(dirname(runsDir), 'outside');
    const victim = keyFor(9);
    mkdirSync(join(outside, victim, 'out'), { recursive: true });
    writeFileSync(join(outside, victim, 'out', 'precious.txt'), 'not the cache');
    writeFileSync(join(outside, victim, 'stage.json'), '{}');
    mkdirSync(store.cacheDir, { recursive: true });
    symlinkSync(outside, join(store.cacheDir, victim.slice(0, 2)));
    const linkedEntry = keyFor(8);
    mkdirSync(join(store.cacheDir, linkedEntry.slice(0, 2)), { recursive: true });
    symlinkSync(join(outside, victim), store.entryDir(linkedEntry));
    const r = await garbageCollect(store, new Set(), { dryRun: false });
    expect(r.removed).toEqual([]);
    expect(r.skipped.map((s) => s.key).sort()).toEqual([linkedEntry, victim].sort());
    expect(r.skipped.find((s) => s.key === victim)!.reason).toMatch(/shard folder .* is a symlink/);
    expect(readFileSync(join(outside, victim, 'out', 'precious.txt'), 'utf8')).toBe('not the cache');
  });

  it('still works when the whole cache folder is a symlink (a cache on another disk)', async () => {
    const elsewhere = join(dirname(runsDir), 'bigdisk');
    mkdirSync(elsewhere, { recursive: true });
    mkdirSync(runsDir, { recursive: true });
    symlinkSync(elsewhere, store.cacheDir);
    await publish(1);
    expect((await garbageCollect(store, new Set(), { dryRun: false })).removed.map((e) => e.key)).toEqual([keyFor(1)]);
  });
});

describe('stale locks are recognised by more than a pid', () => {
  it.skipIf(!hasProc)('a lock whose pid now belongs to another process (pid reuse) is taken over at once', async () => {
    // process.ppid is alive, but it started at another time than the recorded holder.
    writeLock(keyFor(1), { pid: process.ppid, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z', bootId: currentBootId()!, startTicks: 1 });
    const lock = await acquireKeyLock(store, keyFor(1), { wait: false });
    expect(lock.holder.pid).toBe(process.pid);
    lock.release();
    // Our own pid, recorded by an earlier process that had it: stale too.
    writeLock(keyFor(2), { pid: process.pid, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z', startTicks: selfOwner().startTicks! - 1 });
    (await acquireKeyLock(store, keyFor(2), { wait: false })).release();
  });

  it.skipIf(!hasProc)('a lock from an earlier boot is stale even if its pid runs now', async () => {
    writeLock(keyFor(1), { pid: process.ppid, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z', bootId: 'an-earlier-boot' });
    expect(isOwnerGone({ pid: process.ppid, hostname: hostname(), bootId: 'an-earlier-boot' })).toBe(true);
    (await acquireKeyLock(store, keyFor(1), { wait: false })).release();
  });

  it('a live holder (this process) is not stale; nor is a lock without start time whose pid runs', async () => {
    const lock = await acquireKeyLock(store, keyFor(1), { wait: false });
    expect(isOwnerGone(lock.holder)).toBe(false);
    expect(sweepStaleKeyLocks(store)).toBe(0);
    lock.release();
    writeLock(keyFor(2), { pid: process.ppid, hostname: hostname(), startedAt: 'x' });
    await expect(acquireKeyLock(store, keyFor(2), { wait: false })).rejects.toThrow(/is being written by another run/);
  });

  it('stale locks left beside published entries (kill -9 between publish and release) are cleared by gc and the next run', async () => {
    await publish(1);
    await publish(2);
    writeLock(keyFor(1), { pid: DEAD_PID, hostname: hostname(), startedAt: 'x' });
    writeLock(keyFor(2), { pid: process.ppid, hostname: hostname(), startedAt: 'x', ...(hasProc ? { startTicks: 1 } : {}) });
    mkdirSync(dirname(store.lockPath(keyFor(3))), { recursive: true });
    writeFileSync(`${store.lockPath(keyFor(3))}.takeover`, '');
    const old = new Date(Date.now() - 60_000);
    const { utimesSync } = await import('node:fs');
    utimesSync(`${store.lockPath(keyFor(3))}.takeover`, old, old);
    const r = await garbageCollect(store, new Set([keyFor(1), keyFor(2)]), { dryRun: false });
    expect(r.staleLocks).toBe(hasProc ? 3 : 2);
    const left = readdirSync(join(store.cacheDir, keyFor(2).slice(0, 2))).filter((f) => f.includes('.lock'));
    expect(left).toEqual(hasProc ? [] : [`${keyFor(2)}.lock`]);

    // The next run sweeps too.
    writeLock(keyFor(1), { pid: DEAD_PID, hostname: hostname(), startedAt: 'x' });
    const dir = dirname(runsDir);
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'version: 1\nstages:\n  a: { run: "true" }\n');
    const registry = new StageRegistry().register((await import('../../../stages/command/index.js')).default);
    await runPipeline(parsePipeline(readFileSync(file, 'utf8'), file, registry), store, registry, { writeLock: false, writeHistory: false });
    expect(readdirSync(join(store.cacheDir, keyFor(1).slice(0, 2))).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
});
