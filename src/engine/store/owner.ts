/**
 * Who owns a staging dir, a lock or a run lease: a process on a host. A pid alone does not name a
 * process for long: after a kill -9 the kernel hands the pid to another process sooner or later,
 * and a lock whose "holder" is alive again would be waited on forever. So an owner is recorded as
 *
 *   { pid, hostname, bootId?, startTicks? }
 *
 * bootId: Linux's /proc/sys/kernel/random/boot_id, new at every boot (every pid of an earlier
 * boot is gone); startTicks: field 22 of /proc/<pid>/stat, the process's start time in clock
 * ticks since boot, which a reused pid does not share. Where /proc is missing (macOS) both are
 * absent and the pid alone is checked, as before. An owner on another host is always presumed
 * alive: its pids cannot be checked from here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessOwner {
  pid: number;
  hostname: string;
  bootId?: string;
  startTicks?: number;
}

/** 8 hex chars naming this host inside file names (host names may hold dots and dashes). */
export const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/** True while a process with this pid exists (signal 0 probes without sending anything). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let bootIdCache: string | null | undefined;
/** This boot's id (Linux), undefined elsewhere. */
export function currentBootId(): string | undefined {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootIdCache = null;
    }
  }
  return bootIdCache ?? undefined;
}

/** Start time of process `pid` in clock ticks since boot (Linux), undefined when unknown or gone. */
export function processStartTicks(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]); // field 22 of proc(5); fields[0] is field 3
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

let self: ProcessOwner | undefined;
/** This process as an owner. */
export function selfOwner(): ProcessOwner {
  if (!self) {
    self = { pid: process.pid, hostname: hostname() };
    const boot = currentBootId();
    const ticks = processStartTicks(process.pid);
    if (boot !== undefined) self.bootId = boot;
    if (ticks !== undefined) self.startTicks = ticks;
  }
  return { ...self };
}

/**
 * True when the owner is certainly gone: on this host, and either from an earlier boot, or its
 * pid is not running, or the pid now belongs to a process started at another time. False when it
 * may be alive (another host, or no way to tell).
 */
export function isOwnerGone(owner: ProcessOwner): boolean {
  if (owner.hostname !== hostname()) return false;
  const boot = currentBootId();
  if (owner.bootId !== undefined && boot !== undefined && owner.bootId !== boot) return true;
  if (owner.pid === process.pid) {
    // This very process, unless the record is from an earlier holder of our pid.
    return owner.startTicks !== undefined && selfOwner().startTicks !== undefined && owner.startTicks !== selfOwner().startTicks;
  }
  if (!isProcessAlive(owner.pid)) return true;
  if (owner.startTicks === undefined) return false;
  const now = processStartTicks(owner.pid);
  return now !== undefined && now !== owner.startTicks;
}

/** `<hostTag>-<pid>.<startTicks>-<random>`: a unique name whose owner sweepers can check. */
export function ownedName(): string {
  const ticks = selfOwner().startTicks;
  return `${HOST_TAG}-${process.pid}${ticks === undefined ? '' : `.${ticks}`}-${randomBytes(6).toString('hex')}`;
}

/** True when `name` came from ownedName() on this host by a process that is gone. */
export function isOrphanedName(name: string): boolean {
  const m = /^([0-9a-f]{8})-(\d+)(?:\.(\d+))?-[0-9a-f]+$/.exec(name);
  if (!m || m[1] !== HOST_TAG) return false;
  return isOwnerGone({ pid: Number(m[2]), hostname: hostname(), ...(m[3] !== undefined ? { startTicks: Number(m[3]) } : {}) });
}
