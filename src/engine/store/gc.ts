/**
 * Garbage collection of the artifact cache: keep what a lock file or one of the last N runs of
 * each pipeline references, remove the rest. Keys currently locked by a live writer are kept too.
 * The parse caches under runs/index/ (parsed copies of pipeline and lock files, named by content)
 * are emptied as well: they only grow otherwise, and the next load of a file rebuilds its copy.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactStore } from './artifact-store.js';
import { treeBytes } from './artifact-store.js';
import { listRunRecords } from './history.js';
import { isKeyLockHeld } from './key-lock.js';
import { readPipelineLock } from './pipeline-lock.js';

/**
 * Keys referenced by the given lock files (missing ones are skipped) and by the newest
 * `keepLastRuns` run records of each pipeline (stages that were cached or ran).
 */
export function collectReferencedKeys(runsDir: string, lockFiles: string[], keepLastRuns: number): Set<string> {
  const keys = new Set<string>();
  for (const file of lockFiles) {
    const lock = readPipelineLock(file);
    if (lock) for (const s of Object.values(lock.stages)) keys.add(s.key);
  }
  const perPipeline = new Map<string, number>();
  for (const run of listRunRecords(runsDir)) {
    const seen = perPipeline.get(run.pipeline) ?? 0;
    if (seen >= keepLastRuns) continue;
    perPipeline.set(run.pipeline, seen + 1);
    for (const s of run.stages) if (s.outcome === 'cached' || s.outcome === 'ran') keys.add(s.key);
  }
  return keys;
}

export interface GcResult {
  removed: Array<{ key: string; bytes: number }>;
  kept: number;
  freedBytes: number;
  /** Parsed copies removed from runs/index/ (pipelines/, locks/). */
  indexFiles: number;
}

/** Removes every cache entry not in `keep` (with dryRun, only reports what it would remove). */
export async function garbageCollect(store: ArtifactStore, keep: Set<string>, opts: { dryRun: boolean }): Promise<GcResult> {
  const removed: GcResult['removed'] = [];
  let kept = 0;
  let freedBytes = 0;
  for (const key of await store.listKeys()) {
    if (keep.has(key) || isKeyLockHeld(store.lockPath(key))) {
      kept++;
      continue;
    }
    const bytes = await treeBytes(store.entryDir(key));
    if (!opts.dryRun) await store.remove(key);
    removed.push({ key, bytes });
    freedBytes += bytes;
  }
  return { removed, kept, freedBytes, indexFiles: clearIndex(store.runsDir, opts.dryRun) };
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
