/**
 * Who owns a staging dir or a lock: this process's pid on this host. A pid is only checked
 * for liveness on the host that wrote it; an owner on another host is always presumed alive.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

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

/** `<hostTag>-<pid>-<random>`: a unique name whose owner sweepers can check. */
export function ownedName(): string {
  return `${HOST_TAG}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** True when `name` came from ownedName() on this host by a process that is gone. */
export function isOrphanedName(name: string): boolean {
  const m = /^([0-9a-f]{8})-(\d+)-[0-9a-f]+$/.exec(name);
  if (!m || m[1] !== HOST_TAG) return false;
  const pid = Number(m[2]);
  return pid !== process.pid && !isProcessAlive(pid);
}
