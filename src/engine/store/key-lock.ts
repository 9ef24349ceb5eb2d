/**
 * One writer per stage key: `runs/cache/<key[0:2]>/<key>.lock`, created with O_EXCL and holding
 * `{pid, hostname, startedAt, bootId?, startTicks?}` as JSON (owner.ts). Two runs that need the
 * same key never build it at once: the second waits (and then finds the entry in the cache) or,
 * with `--no-wait`, stops with a LockBusyError. The same file lock (acquireFileLock) guards the
 * run leases (lease.ts).
 *
 * Stale locks: a lock whose owner is gone — its pid dead on this host, the pid now another
 * process (a different start time), or from an earlier boot — is taken over; the pid alone is
 * not enough, because a kill -9 between publishing and releasing leaves a lock whose pid the
 * kernel later hands to someone else, and that lock was once waited on forever. The takeover
 * itself is serialised by a short-lived `<key>.lock.takeover` file (created exclusively too), so
 * two waiters that both see the same stale lock cannot both delete it and end up both holding the
 * key. A lock file that is empty or half-written counts as stale once it is older than
 * EMPTY_LOCK_GRACE_MS. Locks held by another host are never taken over. Stale locks nobody waits
 * for are swept by gc and at the start of every run (sweepStaleKeyLocks).
 *
 * NFS: lock files (and the takeover guard) are made by createExclusive — the holder is written to
 * a uniquely named sibling, which is hard-linked onto the lock name. link(2) is atomic on the
 * server, where O_EXCL is not guaranteed by every NFS client, and a lock created this way is never
 * seen half-written. docs/cluster.md states the protocol.
 */
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../../core/errors.js';
import type { ArtifactStore } from './artifact-store.js';
import type { StageKey } from './fingerprint.js';
import { isOwnerGone, ownedName, selfOwner, type ProcessOwner } from './owner.js';

export interface LockHolder extends ProcessOwner {
  /** ISO 8601. */
  startedAt: string;
}

export interface FileLock {
  path: string;
  holder: LockHolder;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

export interface KeyLock extends FileLock {
  key: StageKey;
}

/** `wait: false` and another live process holds the key. */
export class LockBusyError extends UserError {
  readonly holder: LockHolder;
  constructor(key: StageKey, path: string, holder: LockHolder) {
    super(
      'locked',
      `stage key ${key.slice(0, 12)}… is being written by another run (pid ${holder.pid} on ${holder.hostname}, since ${holder.startedAt}); ` +
        `--no-wait was given, so not waiting. Wait for that run to finish, or delete ${path} if it is certainly gone.`,
      { location: { file: path } },
    );
    this.holder = holder;
  }
}

const EMPTY_LOCK_GRACE_MS = 10_000;
const TAKEOVER_GRACE_MS = 10_000;

/** Locks this process holds, removed on exit so a normal exit never leaves one behind. */
const held = new Set<FileLock>();
let exitHookInstalled = false;

export interface FileLockOptions {
  wait: boolean;
  signal?: AbortSignal;
  onWait?: (holder: LockHolder) => void;
  pollMs?: number;
}

export async function acquireKeyLock(store: ArtifactStore, key: StageKey, opts: FileLockOptions): Promise<KeyLock> {
  const path = store.lockPath(key);
  const lock = await acquireFileLock(path, opts, (holder) => new LockBusyError(key, path, holder));
  return Object.assign(lock, { key });
}

/**
 * Takes the O_EXCL lock file at `path`: waits while a live owner holds it (or, without `wait`,
 * throws `busy(holder)`), takes over a stale one.
 */
export async function acquireFileLock(path: string, opts: FileLockOptions, busy: (holder: LockHolder) => Error): Promise<FileLock> {
  mkdirSync(dirname(path), { recursive: true });
  const pollMs = opts.pollMs ?? 200;
  let reported: string | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    const mine = tryCreate(path);
    if (mine) return track(path, mine);
    const holder = readHolder(path);
    if (holder === 'gone') continue; // released between our create and our read
    if (holder === 'unreadable' ? isOldFile(path, EMPTY_LOCK_GRACE_MS) : isStale(holder)) {
      // Another process holds the takeover guard: pause instead of spinning on it synchronously.
      if (!takeOver(path, holder)) await pause(pollMs, opts.signal);
      continue;
    }
    const shown: LockHolder = holder === 'unreadable' ? { pid: 0, hostname: 'unknown', startedAt: 'just now' } : holder;
    if (!opts.wait) throw busy(shown);
    const id = `${shown.pid}@${shown.hostname}@${shown.startedAt}`;
    if (id !== reported) {
      reported = id;
      opts.onWait?.(shown);
    }
    await pause(pollMs, opts.signal);
  }
}

/**
 * Resolves once no live owner holds the lock file at `path` (without taking it): a stale lock
 * is taken over (deleted) on the way, as acquireFileLock would.
 */
export async function awaitLockFree(path: string, opts: { pollMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  // The common case, once per batch of a run's keys: no lock, and no ENOENT error to build.
  if (!existsSync(path)) return;
  for (;;) {
    opts.signal?.throwIfAborted();
    const holder = readHolder(path);
    if (holder === 'gone') return;
    if (holder === 'unreadable' ? isOldFile(path, EMPTY_LOCK_GRACE_MS) : isStale(holder)) {
      if (takeOver(path, holder)) continue;
    }
    await pause(opts.pollMs ?? 200, opts.signal);
  }
}

/**
 * Removes the stale key locks of the cache (and takeover guards left by a killed waiter): a
 * lock whose owner is gone (see the top of this file) and that no waiter is taking over. Shard
 * folders that are symlinks are not entered. Returns how many files it removed.
 */
export function sweepStaleKeyLocks(store: ArtifactStore): number {
  let removed = 0;
  let shards;
  try {
    shards = readdirSync(store.cacheDir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  for (const shard of shards) {
    if (!shard.isDirectory() || !/^[0-9a-f]{2}$/.test(shard.name)) continue;
    const dir = join(store.cacheDir, shard.name);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name.endsWith('.lock.takeover')) {
        if (isOldFile(path, TAKEOVER_GRACE_MS)) {
          unlinkQuiet(path);
          removed++;
        }
        continue;
      }
      if (!name.endsWith('.lock')) continue;
      const holder = readHolder(path);
      if (holder === 'gone') continue;
      const stale = holder === 'unreadable' ? isOldFile(path, EMPTY_LOCK_GRACE_MS) : isStale(holder);
      if (stale && takeOver(path, holder) && readHolder(path) === 'gone') removed++;
    }
  }
  return removed;
}

/** Sleeps pollMs; an abort rejects with the signal's reason. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}

/** Creates the lock file naming this process; undefined when it exists. */
function tryCreate(path: string): LockHolder | undefined {
  const holder: LockHolder = { ...selfOwner(), startedAt: new Date().toISOString() };
  return createExclusive(path, `${JSON.stringify(holder)}\n`) ? holder : undefined;
}

/**
 * Creates `path` with `content` unless it exists; false when it does. The content is written and
 * fsynced under a unique sibling name first, then hard-linked to `path`: link(2) fails with EEXIST
 * when `path` exists, atomically on NFS too. A link whose reply was lost is retransmitted and then
 * reports EEXIST although it succeeded; the unique file's link count (2) tells. Filesystems without
 * hard links fall back to O_EXCL.
 */
export function createExclusive(path: string, content: string): boolean {
  const unique = `${path}.${ownedName()}`;
  const fd = openSync(unique, 'wx');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(unique, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return statSync(unique).nlink === 2;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return createWithExcl(path, content);
    throw err;
  } finally {
    unlinkQuiet(unique);
  }
}

function createWithExcl(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Whether a live writer may hold the lock file at `path`: a lock being written, or held from
 * another host, counts as held (we cannot tell); a dead holder on this host does not. gc asks this
 * before removing an entry.
 */
export function isKeyLockHeld(path: string): boolean {
  const holder = readHolder(path);
  if (holder === 'gone') return false;
  if (holder === 'unreadable') return true;
  return !isStale(holder);
}

function readHolder(path: string): LockHolder | 'gone' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.hostname === 'string' && typeof v.startedAt === 'string') {
      const holder: LockHolder = { pid: v.pid, hostname: v.hostname, startedAt: v.startedAt };
      if (typeof v.bootId === 'string') holder.bootId = v.bootId;
      if (typeof v.startTicks === 'number') holder.startTicks = v.startTicks;
      return holder;
    }
  } catch {
    // fall through: half-written
  }
  return 'unreadable';
}

function isStale(holder: LockHolder): boolean {
  return isOwnerGone(holder);
}

function isOldFile(path: string, ageMs: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ageMs;
  } catch {
    return false;
  }
}

/**
 * Deletes a stale lock, unless someone else replaced it meanwhile. False when another process
 * holds the takeover guard (the caller should wait a little before looking again).
 */
function takeOver(path: string, seen: LockHolder | 'unreadable'): boolean {
  const guard = `${path}.takeover`;
  if (!createExclusive(guard, `${process.pid}@${hostname()}\n`)) {
    // Another waiter is taking over; a guard left by a killed process expires.
    if (!isOldFile(guard, TAKEOVER_GRACE_MS)) return false;
    unlinkQuiet(guard);
    return true;
  }
  try {
    const now = readHolder(path);
    const same = seen === 'unreadable' ? now === 'unreadable' : now !== 'gone' && now !== 'unreadable' && sameHolder(now, seen);
    if (same) unlinkQuiet(path);
  } finally {
    unlinkQuiet(guard);
  }
  return true;
}

function sameHolder(a: LockHolder, b: LockHolder): boolean {
  return a.pid === b.pid && a.hostname === b.hostname && a.startedAt === b.startedAt && a.startTicks === b.startTicks;
}

function track(path: string, holder: LockHolder): FileLock {
  const lock: FileLock = {
    path,
    holder,
    release() {
      if (!held.delete(lock)) return;
      const now = readHolder(path);
      if (now !== 'gone' && now !== 'unreadable' && sameHolder(now, holder)) unlinkQuiet(path);
    },
  };
  held.add(lock);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const l of [...held]) l.release();
    });
  }
  return lock;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
