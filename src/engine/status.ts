import { join } from 'node:path';
import type { LoadedPipeline } from './pipeline/index.js';
import { DepDigests, stageKeyInputs } from './key-inputs.js';
import { BuiltHere, missReasons } from './miss-reasons.js';
import { lockFilePath, readPipelineLock, stageKey, type ArtifactStore, type CacheEntry, type OutputDigest, type StageKey } from './store/index.js';

export interface StageStatus {
  id: string;
  type: string;
  /** cached: an entry exists for the current key; stale: it must run; blocked: an upstream is stale, so its key is not known yet. */
  state: 'cached' | 'stale' | 'blocked';
  key?: StageKey;
  digest?: OutputDigest;
  /** Why it is stale or blocked: which param, input or dep changed (against the lock file). */
  reasons: string[];
  entry?: CacheEntry;
}

/** Per stage, whether a run would use the cache, and why not. Reads only; runs nothing. */
export async function pipelineStatus(pipeline: LoadedPipeline, store: ArtifactStore): Promise<StageStatus[]> {
  const lock = readPipelineLock(lockFilePath(pipeline.file), { parsedCacheDir: join(store.runsDir, 'index', 'locks') });
  const byId = new Map<string, StageStatus>();
  const depDigests = new DepDigests();
  const builtHere = new BuiltHere(store.runsDir, pipeline.name);
  for (const [id, stage] of pipeline.stages) {
    const notReady = stage.needs.filter((n) => byId.get(n)?.state !== 'cached');
    if (notReady.length > 0) {
      byId.set(id, { id, type: stage.type, state: 'blocked', reasons: notReady.map((n) => `upstream ${n} is ${byId.get(n)?.state === 'blocked' ? 'blocked' : 'stale'}`) });
      continue;
    }
    const digests: Record<string, OutputDigest> = {};
    for (const n of stage.needs) digests[n] = byId.get(n)!.digest!;
    const keyInputs = await stageKeyInputs(stage, digests, pipeline.dir, pipeline.seed, depDigests);
    const key = stageKey(keyInputs);
    const entry = await store.lookup(key);
    if (entry) {
      byId.set(id, { id, type: stage.type, state: 'cached', key, digest: entry.record.outputDigest, reasons: [], entry });
    } else {
      byId.set(id, { id, type: stage.type, state: 'stale', key, reasons: missReasons(lock?.stages[id], keyInputs, key, builtHere) });
    }
  }
  return [...byId.values()];
}
