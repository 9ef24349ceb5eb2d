/**
 * Garbage collection of the artifact cache: keep what a lock file or one of the last N runs of
 * each pipeline references, remove the rest. Keys currently locked by a live writer are kept too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ArtifactStore } from './artifact-store.js';
import { treeBytes } from './artifact-store.js';
import { listRunRecords } from './history.js';
import { isProcessAlive } from './owner.js';
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
}

/** Removes every cache entry not in `keep` (with dryRun, only reports what it would remove). */
export async function garbageCollect(store: ArtifactStore, keep: Set<string>, opts: { dryRun: boolean }): Promise<GcResult> {
  const removed: GcResult['removed'] = [];
  let kept = 0;
  let freedBytes = 0;
  for (const key of await store.listKeys()) {
    if (keep.has(key) || isLockedByLiveWriter(store.lockPath(key))) {
      kept++;
      continue;
    }
    const bytes = await treeBytes(store.entryDir(key));
    if (!opts.dryRun) await store.remove(key);
    removed.push({ key, bytes });
    freedBytes += bytes;
  }
  return { removed, kept, freedBytes };
}

function isLockedByLiveWriter(lockPath: string): boolean {
  if (!existsSync(lockPath)) return false;
  try {
    const h = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid?: unknown; hostname?: unknown };
    if (h.hostname !== hostname()) return true; // cannot tell: be safe
    return typeof h.pid === 'number' && isProcessAlive(h.pid);
  } catch {
    return true; // being written right now
  }
}
