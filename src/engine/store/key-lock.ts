/**
 * One writer per stage key: `runs/cache/<key[0:2]>/<key>.lock`, created with O_EXCL and holding
 * `{pid, hostname, startedAt}` as JSON. Two runs that need the same key never build it at once:
 * the second waits (and then finds the entry in the cache) or, with `--no-wait`, stops with a
 * LockBusyError.
 *
 * Stale locks: a lock whose pid is dead on this host is taken over. The takeover itself is
 * serialised by a short-lived `<key>.lock.takeover` file (also O_EXCL), so two waiters that both
 * see the same stale lock cannot both delete it and end up both holding the key. A lock file that
 * is empty or half-written (its writer died between create and write) counts as stale once it is
 * older than EMPTY_LOCK_GRACE_MS. Locks held by another host are never taken over.
 *
 * NFS: lock files (and the takeover guard) are made by createExclusive — the holder is written to
 * a uniquely named sibling, which is hard-linked onto the lock name. link(2) is atomic on the
 * server, where O_EXCL is not guaranteed by every NFS client, and a lock created this way is never
 * seen half-written. docs/cluster.md states the protocol.
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../../core/errors.js';
import type { ArtifactStore } from './artifact-store.js';
import { isProcessAlive, ownedName } from './owner.js';

export interface LockHolder {
  pid: number;
  hostname: string;
  /** ISO 8601. */
  startedAt: string;
}

export interface KeyLock {
  key: string;
  path: string;
  holder: LockHolder;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

/** `wait: false` and another live process holds the key. */
export class LockBusyError extends UserError {
  readonly holder: LockHolder;
  constructor(key: string, path: string, holder: LockHolder) {
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
const held = new Set<KeyLock>();
let exitHookInstalled = false;

export async function acquireKeyLock(
  store: ArtifactStore,
  key: string,
  opts: { wait: boolean; signal?: AbortSignal; onWait?: (holder: LockHolder) => void; pollMs?: number },
): Promise<KeyLock> {
  const path = store.lockPath(key);
  mkdirSync(dirname(path), { recursive: true });
  const pollMs = opts.pollMs ?? 200;
  let reported: string | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    const mine = tryCreate(path);
    if (mine) return track(key, path, mine);
    const holder = readHolder(path);
    if (holder === 'gone') continue; // released between our create and our read
    if (holder === 'unreadable' ? isOldFile(path, EMPTY_LOCK_GRACE_MS) : isStale(holder)) {
      // Another process holds the takeover guard: pause instead of spinning on it synchronously.
      if (!takeOver(path, holder)) await pause(pollMs, opts.signal);
      continue;
    }
    const shown: LockHolder = holder === 'unreadable' ? { pid: 0, hostname: 'unknown', startedAt: 'just now' } : holder;
    if (!opts.wait) throw new LockBusyError(key, path, shown);
    const id = `${shown.pid}@${shown.hostname}@${shown.startedAt}`;
    if (id !== reported) {
      reported = id;
      opts.onWait?.(shown);
    }
    await pause(pollMs, opts.signal);
  }
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
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
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
      return { pid: v.pid, hostname: v.hostname, startedAt: v.startedAt };
    }
  } catch {
    // fall through: half-written
  }
  return 'unreadable';
}

function isStale(holder: LockHolder): boolean {
  return holder.hostname === hostname() && holder.pid !== process.pid && !isProcessAlive(holder.pid);
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
  return a.pid === b.pid && a.hostname === b.hostname && a.startedAt === b.startedAt;
}

function track(key: string, path: string, holder: LockHolder): KeyLock {
  const lock: KeyLock = {
    key,
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
