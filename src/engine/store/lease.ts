/**
 * Run leases: what a live run has produced or is about to read, so that `gc` leaves it alone.
 *
 *   runs/index/leases/<host>-<pid>.<ticks>-<rand>.lease   one per live run:
 *       line 1: the owner, JSON ({pid, hostname, bootId?, startTicks?}, owner.ts)
 *       then:   one stage key per line, appended as the run meets them
 *   runs/index/gc.lock                                    held by a gc for its whole sweep
 *                                                         (key-lock.ts's file lock)
 *
 * Protocol:
 *   - gc takes gc.lock, then reads every live lease, and keeps the lock until it has removed its
 *     last entry (withLeases);
 *   - a run appends a key to its lease, THEN checks gc.lock: while a live gc holds it, the run
 *     waits; only then does it look the key up in the cache or build it (RunLease.hold). Its
 *     inputs were leased when they were looked up.
 * Why that is enough: if the run's append came before gc read the leases, gc sees the key and
 * keeps it. If it came after, gc.lock already existed when the run checked it (gc takes the lock
 * before reading), so the run waits until gc is done and then finds either the entry (kept) or
 * nothing (and builds it). Either way no entry vanishes under a run that found it. Appends and
 * the lock check are plain syscalls in program order on one host, which is what the cache's
 * locks already rely on.
 *
 * A run never creates or deletes a lock file for this: a cached run of 1,000 stages costs one
 * write per batch of keys met in the same tick and one stat per batch. A lease whose owner is
 * gone (killed) protects nothing: gc deletes it; a gc.lock whose owner is gone is taken over.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactStore } from './artifact-store.js';
import type { StageKey } from './fingerprint.js';
import { acquireFileLock, awaitLockFree } from './key-lock.js';
import { isOwnerGone, ownedName, selfOwner, type ProcessOwner } from './owner.js';
import { InternalError } from '../../core/errors.js';

const LEASE_SUFFIX = '.lease';
/** How often a run that meets a gc looks again, ms. */
const GC_POLL_MS = 50;

function leasesDir(runsDir: string): string {
  return join(runsDir, 'index', 'leases');
}

function gcLockPath(runsDir: string): string {
  return join(runsDir, 'index', 'gc.lock');
}

/** Leases open in this process, released on exit so a normal exit never leaves one behind. */
const open = new Set<RunLease>();
let exitHookInstalled = false;

export class RunLease {
  private readonly file: string;
  private readonly fd: number;
  private readonly written = new Set<string>();
  private pending: string[] = [];
  /** Resolves when every key asked for so far is on disk and no gc is at work. */
  private chain: Promise<void> = Promise.resolve();
  private released = false;

  private constructor(
    private readonly runsDir: string,
    private readonly signal?: AbortSignal,
  ) {
    const dir = leasesDir(runsDir);
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${ownedName()}${LEASE_SUFFIX}`);
    this.fd = openSync(this.file, 'wx');
    writeSync(this.fd, `${JSON.stringify(selfOwner())}\n`);
    open.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const lease of [...open]) lease.release();
      });
    }
  }

  /** A new, empty lease of this process for the runs folder of `store`. */
  static open(store: ArtifactStore, signal?: AbortSignal): RunLease {
    return new RunLease(store.runsDir, signal);
  }

  /** Resolves once `key` is in the lease and no gc is at work: from then on gc keeps its entry. */
  hold(key: StageKey): Promise<void> {
    if (this.released) return Promise.reject(new InternalError('RunLease.hold: the lease was released'));
    if (this.written.has(key)) return Promise.resolve();
    if (!this.pending.includes(key)) {
      this.pending.push(key);
      // Keys asked for in the same tick share one write and one look at gc.lock.
      this.chain = this.chain.then(() => this.flush());
    }
    return this.chain;
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0 || this.released) return;
    const batch = this.pending;
    this.pending = [];
    writeSync(this.fd, `${batch.join('\n')}\n`);
    for (const key of batch) this.written.add(key);
    await awaitLockFree(gcLockPath(this.runsDir), { pollMs: GC_POLL_MS, signal: this.signal });
  }

  /** Closes and deletes the lease file. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    open.delete(this);
    closeSync(this.fd);
    try {
      unlinkSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/**
 * Runs `fn` holding gc.lock (waiting for another gc first), with the keys of every live lease;
 * deletes the leases of owners that are gone. gc removes entries inside `fn`.
 */
export async function withLeases<T>(store: ArtifactStore, fn: (leased: ReadonlySet<string>) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const lock = await acquireFileLock(gcLockPath(store.runsDir), { wait: true, pollMs: GC_POLL_MS, signal }, () => new InternalError('unreachable: gc.lock is waited for'));
  try {
    return await fn(readLiveLeases(store.runsDir));
  } finally {
    lock.release();
  }
}

/** Keys of live leases; dead owners' leases are deleted. Call with gc.lock held. */
function readLiveLeases(runsDir: string): Set<string> {
  const keys = new Set<string>();
  const dir = leasesDir(runsDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return keys;
    throw err;
  }
  for (const name of names) {
    if (!name.endsWith(LEASE_SUFFIX)) continue;
    const path = join(dir, name);
    let lines: string[];
    try {
      lines = readFileSync(path, 'utf8').split('\n');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      throw err;
    }
    const owner = parseOwner(lines[0]!);
    // A lease whose first line is not (yet) readable may belong to a run starting right now: keep its keys.
    if (owner && isOwnerGone(owner)) {
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      continue;
    }
    for (const line of lines.slice(1)) if (/^[0-9a-f]{64}$/.test(line)) keys.add(line);
  }
  return keys;
}

function parseOwner(line: string): ProcessOwner | undefined {
  try {
    const v = JSON.parse(line) as Partial<ProcessOwner>;
    if (typeof v.pid !== 'number' || typeof v.hostname !== 'string') return undefined;
    return {
      pid: v.pid,
      hostname: v.hostname,
      ...(typeof v.bootId === 'string' ? { bootId: v.bootId } : {}),
      ...(typeof v.startTicks === 'number' ? { startTicks: v.startTicks } : {}),
    };
  } catch {
    return undefined;
  }
}
