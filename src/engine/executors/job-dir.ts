/**
 * A remote job's folder, in the shared cache so that the node and the submitter both see it:
 *
 *   <cache>/.jobs/<key[0:16]>-<random>/job.json      the job file (job-file.ts)
 *                                     /job.sh        the batch script
 *                                     /job.log       the job's stdout and stderr
 *                                     /events.jsonl  progress and log lines, appended by exec-job
 *                                     /result.json   exec-job's outcome
 *
 * A job's folder is removed once its entry is published; a failed job's stays, because the error
 * names its log. Folders older than a week are pruned when an executor starts.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ArtifactStore, StageKey } from '../store/index.js';

export interface JobFiles {
  dir: string;
  jobFile: string;
  script: string;
  log: string;
  events: string;
  result: string;
}

const KEEP_MS = 7 * 24 * 3600 * 1000;

export function jobsRoot(store: ArtifactStore): string {
  return join(store.cacheDir, '.jobs');
}

export function newJobDir(store: ArtifactStore, key: StageKey): JobFiles {
  const dir = join(jobsRoot(store), `${key.slice(0, 16)}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return jobFilesIn(dir);
}

export function jobFilesIn(dir: string): JobFiles {
  return {
    dir,
    jobFile: join(dir, 'job.json'),
    script: join(dir, 'job.sh'),
    log: join(dir, 'job.log'),
    events: join(dir, 'events.jsonl'),
    result: join(dir, 'result.json'),
  };
}

/** Removes job folders last touched more than a week ago; returns how many. */
export function pruneJobDirs(store: ArtifactStore, now = Date.now()): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(jobsRoot(store));
  } catch {
    return 0;
  }
  for (const name of names) {
    const dir = join(jobsRoot(store), name);
    try {
      if (now - statSync(dir).mtimeMs > KEEP_MS) {
        rmSync(dir, { recursive: true, force: true });
        removed++;
      }
    } catch {
      // raced with another pruner
    }
  }
  return removed;
}

/** The last `lines` lines of a text file (reads at most its last 64 KiB); [] when it is missing. */
export function tailLines(path: string, lines: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = statSync(path).size;
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const text = buf.toString('utf8').replace(/\n+$/, '');
    return text === '' ? [] : text.split('\n').slice(-lines);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads what was appended to a JSON-lines file since the last call. A line still being written
 * (no newline yet) waits for the next call; lines that are not JSON are skipped.
 */
export class JsonLinesTail {
  private offset = 0;
  constructor(private readonly path: string) {}

  read(): Array<Record<string, unknown>> {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return [];
    }
    try {
      const size = statSync(this.path).size;
      if (size <= this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      const text = buf.subarray(0, n).toString('utf8');
      const end = text.lastIndexOf('\n');
      if (end < 0) return [];
      this.offset += Buffer.byteLength(text.slice(0, end + 1));
      const out: Array<Record<string, unknown>> = [];
      for (const line of text.slice(0, end).split('\n')) {
        try {
          const v = JSON.parse(line) as unknown;
          if (v && typeof v === 'object' && !Array.isArray(v)) out.push(v as Record<string, unknown>);
        } catch {
          // not one of ours
        }
      }
      return out;
    } finally {
      closeSync(fd);
    }
  }
}
