/** Why a stage must run, in the same words for `run` (scheduler.ts) and `status` (status.ts). */
import { explainStale, listRunRecords, type LockedStage, type StageKey, type StageKeyInputs } from './store/index.js';

/**
 * Why a stage whose key has no cache entry must run: what changed against the lock file
 * (explainStale), or, when the lock file has this very key, whether a run here built it once
 * (removed since) or never did.
 */
export function missReasons(previous: LockedStage | undefined, keyInputs: StageKeyInputs, key: StageKey, builtHere: BuiltHere): string[] {
  const reasons = explainStale(previous, keyInputs);
  if (reasons.length === 0) {
    reasons.push(builtHere.has(key) ? 'cache entry removed (by gc or by hand) since a run built it' : 'not built on this machine yet (the lock file records this key)');
  }
  return reasons;
}

/** Keys earlier runs of a pipeline ran or found cached here (run records), read once and only when asked. */
export class BuiltHere {
  private keys: Set<StageKey | ''> | undefined;
  constructor(
    private readonly runsDir: string,
    private readonly pipeline: string,
  ) {}

  has(key: StageKey): boolean {
    if (!this.keys) {
      try {
        this.keys = new Set(listRunRecords(this.runsDir, this.pipeline).flatMap((r) => r.stages.filter((s) => s.outcome === 'ran' || s.outcome === 'cached').map((s) => s.key)));
      } catch {
        this.keys = new Set(); // a broken record only costs the reason its precision
      }
    }
    return this.keys.has(key);
  }
}
