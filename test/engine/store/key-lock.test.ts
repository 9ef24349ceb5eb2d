import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import { acquireKeyLock, ArtifactStore, LockBusyError, type LockHolder } from '../../../src/engine/store/index.js';
import { selfOwner } from '../../../src/engine/store/owner.js';
import { keyFor, tempRunsDir } from './fixtures.js';

let runsDir: string;
let store: ArtifactStore;
const key = keyFor(1);
beforeEach(() => {
  runsDir = tempRunsDir();
  store = new ArtifactStore(runsDir);
});
afterEach(() => rmSync(dirname(runsDir), { recursive: true, force: true }));

/** pid above Linux's default pid_max: certainly not running. */
const DEAD_PID = 4_194_999;

function writeLock(holder: LockHolder | string): void {
  mkdirSync(dirname(store.lockPath(key)), { recursive: true });
  writeFileSync(store.lockPath(key), typeof holder === 'string' ? holder : JSON.stringify(holder));
}

describe('acquireKeyLock', () => {
  it('creates the lock file beside the entry with pid, host and start time, and removes it on release', async () => {
    const lock = await acquireKeyLock(store, key, { wait: false });
    expect(lock.path).toBe(join(runsDir, 'cache', key.slice(0, 2), `${key}.lock`));
    const onDisk = JSON.parse(readFileSync(lock.path, 'utf8'));
    expect(onDisk).toEqual({ ...selfOwner(), startedAt: lock.holder.startedAt });
    expect(onDisk).toMatchObject({ pid: process.pid, hostname: hostname() });
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    lock.release(); // idempotent
  });

  it('with wait:false throws LockBusyError naming the holder and --no-wait', async () => {
    const first = await acquireKeyLock(store, key, { wait: false });
    const err = await acquireKeyLock(store, key, { wait: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockBusyError);
    expect(err).toBeInstanceOf(UserError);
    expect((err as LockBusyError).code).toBe('locked');
    expect((err as Error).message).toContain(`pid ${process.pid} on ${hostname()}`);
    expect((err as Error).message).toContain('--no-wait');
    expect((err as LockBusyError).holder).toEqual(first.holder);
    first.release();
  });

  it('makes a second waiter wait (onWait called) and proceed after release', async () => {
    const first = await acquireKeyLock(store, key, { wait: false });
    let waitedFor: LockHolder | undefined;
    let resolved = false;
    let sawWaiting!: () => void;
    const waiting = new Promise<void>((r) => (sawWaiting = r));
    const second = acquireKeyLock(store, key, {
      wait: true,
      pollMs: 5,
      onWait: (h) => {
        waitedFor = h;
        sawWaiting();
      },
    }).then((l) => {
      resolved = true;
      return l;
    });
    await waiting;
    expect(waitedFor).toEqual(first.holder);
    expect(resolved).toBe(false);
    first.release();
    const lock = await second;
    expect(resolved).toBe(true);
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).startedAt).toBe(lock.holder.startedAt);
    lock.release();
  });

  it('stops waiting when the signal aborts, with the signal reason', async () => {
    const first = await acquireKeyLock(store, key, { wait: false });
    const ac = new AbortController();
    const reason = new Error('cancelled by watch');
    const p = acquireKeyLock(store, key, { wait: true, pollMs: 5, signal: ac.signal, onWait: () => ac.abort(reason) });
    await expect(p).rejects.toBe(reason);
    expect(JSON.parse(readFileSync(first.path, 'utf8')).startedAt).toBe(first.holder.startedAt); // untouched
    first.release();
  });

  it('takes over a lock whose pid is dead on this host, without waiting', async () => {
    writeLock({ pid: DEAD_PID, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z' });
    let waited = false;
    const lock = await acquireKeyLock(store, key, { wait: false, onWait: () => (waited = true) });
    expect(waited).toBe(false);
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('never takes over a lock held from another host', async () => {
    writeLock({ pid: DEAD_PID, hostname: `not-${hostname()}`, startedAt: '2026-01-01T00:00:00.000Z' });
    await expect(acquireKeyLock(store, key, { wait: false })).rejects.toThrow(new RegExp(`pid ${DEAD_PID} on not-`));
  });

  it('treats an empty (half-written) lock as busy at first and as stale once old', async () => {
    writeLock('');
    await expect(acquireKeyLock(store, key, { wait: false })).rejects.toBeInstanceOf(LockBusyError);
    const old = new Date(Date.now() - 60_000);
    utimesSync(store.lockPath(key), old, old);
    const lock = await acquireKeyLock(store, key, { wait: false });
    lock.release();
  });

  it('waits (without blocking the event loop) while another process holds a fresh takeover guard', async () => {
    writeLock({ pid: DEAD_PID, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z' });
    writeFileSync(`${store.lockPath(key)}.takeover`, '');
    const controller = new AbortController();
    const pending = acquireKeyLock(store, key, { wait: true, pollMs: 1, signal: controller.signal });
    // Runs only if acquireKeyLock yields to the event loop while the guard is fresh.
    setImmediate(() => controller.abort(new Error('gave up')));
    await expect(pending).rejects.toThrow('gave up');
    expect(existsSync(`${store.lockPath(key)}.takeover`)).toBe(true);
  });

  it('sees a lock held by another live process, and takes it over once that process is killed', async () => {
    const script = join(dirname(runsDir), 'holder.mjs');
    writeFileSync(
      script,
      `const { acquireKeyLock, ArtifactStore } = await import(process.env.STORE_URL);
       await acquireKeyLock(new ArtifactStore(process.env.RUNS_DIR), process.env.KEY, { wait: false });
       process.stdout.write('locked\\n');
       setInterval(() => {}, 1000);`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: resolve('.'),
      env: { ...process.env, RUNS_DIR: runsDir, KEY: key, STORE_URL: pathToFileURL(resolve('src/engine/store/index.ts')).href },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((r, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && r());
      child.on('exit', (code) => reject(new Error(`holder exited early (${code})`)));
    });
    const err = await acquireKeyLock(store, key, { wait: false }).catch((e: unknown) => e);
    expect((err as LockBusyError).holder.pid).toBe(child.pid);
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const lock = await acquireKeyLock(store, key, { wait: false });
    expect(lock.holder.pid).toBe(process.pid);
    lock.release();
  });

  it('lets only one of many concurrent contenders hold the key at a time', async () => {
    // Stale lock to start with: every contender tries the takeover path at once.
    writeLock({ pid: DEAD_PID, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z' });
    let inside = 0;
    let maxInside = 0;
    const contender = async (): Promise<void> => {
      const lock = await acquireKeyLock(store, key, { wait: true, pollMs: 1 });
      inside++;
      maxInside = Math.max(maxInside, inside);
      await new Promise((r) => setTimeout(r, 2));
      inside--;
      lock.release();
    };
    await Promise.all(Array.from({ length: 8 }, contender));
    expect(maxInside).toBe(1);
    expect(existsSync(store.lockPath(key))).toBe(false);
  });
});
