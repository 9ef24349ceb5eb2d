/**
 * Job tickets: `<cache>/<key[0:2]>/<key>.job.json`, beside the key's lock file. A remote executor
 * writes one before it submits a job for a key and removes it once it has dealt with the job's
 * end. A ticket outlives a submitter that was killed (kill -9, a lost login session), so the next
 * run that needs the key finds the job still queued or running and waits for it — reattaches —
 * instead of submitting the same work again. Tickets are only read and written under the key's
 * writer lock, so two runs never act on one at once.
 */
import { readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../../core/atomic.js';
import type { ArtifactStore, StageKey } from '../store/index.js';

export interface JobTicket {
  /** The executor that owns the job (`slurm`). */
  executor: string;
  /** The scheduler's job id; absent while the submission is in flight. */
  jobId?: string;
  /** The job's name in the scheduler: lets a run find a job whose id was never recorded. */
  jobName: string;
  /** Folder of the job file, script, log, events and result. */
  jobDir: string;
  submitter: { pid: number; hostname: string };
  /** ISO 8601. */
  submittedAt: string;
}

export function ticketPath(store: ArtifactStore, key: StageKey): string {
  return store.lockPath(key).replace(/\.lock$/, '.job.json');
}

/** The key's ticket; undefined when there is none or it is unreadable (then it is ignored). */
export function readTicket(store: ArtifactStore, key: StageKey): JobTicket | undefined {
  try {
    const t = JSON.parse(readFileSync(ticketPath(store, key), 'utf8')) as Partial<JobTicket>;
    if (typeof t.executor === 'string' && typeof t.jobName === 'string' && typeof t.jobDir === 'string') return t as JobTicket;
  } catch {
    // none, or half-written by a process killed mid-write (writeFileAtomic makes that unlikely)
  }
  return undefined;
}

export function writeTicket(store: ArtifactStore, key: StageKey, ticket: JobTicket): void {
  writeFileAtomic(ticketPath(store, key), `${JSON.stringify(ticket, null, 2)}\n`);
}

export function removeTicket(store: ArtifactStore, key: StageKey): void {
  rmSync(ticketPath(store, key), { force: true });
}
