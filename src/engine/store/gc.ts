/**
 * Garbage collection of the artifact cache: keep what a lock file or one of the last N runs of
 * each pipeline references, remove the rest. Kept too: keys locked by a live writer, and keys
 * in the lease of a live run (lease.ts) — what a run in progress has produced or is about to
 * read; gc holds the leases lock for its whole sweep, so no run can lease a key meanwhile.
 * Never followed: a symlink inside the cache (a shard folder or an entry that is a link, to
 * anywhere) is left alone and reported, so gc deletes nothing outside the cache.
 * Stale key locks (owner gone) are swept. The parse caches under runs/index/ (parsed copies of
 * pipeline and lock files, named by content) are emptied as well: they only grow otherwise, and
 * the next load of a file rebuilds its copy.
 */
import { existsSync, lstatSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { ArtifactStore } from './artifact-store.js';
import type { StageKey } from './fingerprint.js';
import { treeBytes } from './artifact-store.js';
import { listRunRecords } from './history.js';
import { isKeyLockHeld, sweepStaleKeyLocks } from './key-lock.js';
import { withLeases } from './lease.js';
import { readPipelineLock } from './pipeline-lock.js';

/**
 * Keys referenced by the given lock files (missing ones are skipped) and by the newest
 * `keepLastRuns` run records of each pipeline (stages that were cached or ran).
 */
export function collectReferencedKeys(runsDir: string, lockFiles: string[], keepLastRuns: number): Set<StageKey> {
  const keys = new Set<StageKey>();
  for (const file of lockFiles) {
    const lock = readPipelineLock(file);
    if (lock) for (const s of Object.values(lock.stages)) keys.add(s.key);
  }
  const perPipeline = new Map<string, number>();
  for (const run of listRunRecords(runsDir)) {
    const seen = perPipeline.get(run.pipeline) ?? 0;
    if (seen >= keepLastRuns) continue;
    perPipeline.set(run.pipeline, seen + 1);
    for (const s of run.stages) if ((s.outcome === 'cached' || s.outcome === 'ran') && s.key !== '') keys.add(s.key);
  }
  return keys;
}

export interface GcResult {
  removed: Array<{ key: StageKey; bytes: number }>;
  kept: number;
  freedBytes: number;
  /** Entries left alone because they are symlinks or lie behind one (never followed out of the cache). */
  skipped: Array<{ key: StageKey; reason: string }>;
  /** Stale key locks (and takeover guards) removed. */
  staleLocks: number;
  /** Parsed copies removed from runs/index/ (pipelines/, locks/). */
  indexFiles: number;
}

/** Removes every cache entry not in `keep` (with dryRun, only reports what it would remove). */
export async function garbageCollect(store: ArtifactStore, keep: ReadonlySet<StageKey>, opts: { dryRun: boolean }): Promise<GcResult> {
  return withLeases(store, async (leased) => {
    const removed: GcResult['removed'] = [];
    const skipped: GcResult['skipped'] = [];
    let kept = 0;
    let freedBytes = 0;
    const keys = await store.listKeys();
    const cacheReal = keys.length > 0 ? realpathSync(store.cacheDir) : store.cacheDir;
    for (const key of keys) {
      if (keep.has(key) || leased.has(key) || isKeyLockHeld(store.lockPath(key))) {
        kept++;
        continue;
      }
      const link = symlinkOnPath(store, cacheReal, key);
      if (link) {
        skipped.push({ key, reason: link });
        continue;
      }
      const bytes = await treeBytes(store.entryDir(key));
      if (!opts.dryRun) await store.remove(key);
      removed.push({ key, bytes });
      freedBytes += bytes;
    }
    const staleLocks = opts.dryRun ? 0 : sweepStaleKeyLocks(store);
    return { removed, kept, freedBytes, skipped, staleLocks, indexFiles: clearIndex(store.runsDir, opts.dryRun) };
  });
}

/**
 * Why the entry of `key` must not be touched, or undefined: its shard folder or its entry is a
 * symlink, or it resolves outside the cache folder.
 */
function symlinkOnPath(store: ArtifactStore, cacheReal: string, key: StageKey): string | undefined {
  const entry = store.entryDir(key);
  const shard = join(store.cacheDir, key.slice(0, 2));
  try {
    if (lstatSync(shard).isSymbolicLink()) return `its shard folder ${shard} is a symlink (gc does not follow links out of the cache)`;
    if (lstatSync(entry).isSymbolicLink()) return `${entry} is a symlink (gc does not follow links out of the cache)`;
    const rel = relative(cacheReal, realpathSync(entry));
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`)) return `${entry} resolves outside the cache folder`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed meanwhile: remove() copes
    throw err;
  }
  return undefined;
}

/** Removes the files of runs/index/{pipelines,locks}; a reader racing with this re-parses. Returns how many. */
function clearIndex(runsDir: string, dryRun: boolean): number {
  let count = 0;
  for (const sub of ['pipelines', 'locks']) {
    const dir = join(runsDir, 'index', sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.json')) continue;
      if (!dryRun) rmSync(join(dir, name), { force: true });
      count++;
    }
  }
  return count;
}
