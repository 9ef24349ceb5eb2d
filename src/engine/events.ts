/**
 * What a run reports while it goes: one stream of typed events. Reporters (listr2 for humans,
 * plain lines for CI, JSON lines for tools) are in src/cli/reporters and only consume this.
 */
import type { FailureCode } from '../core/errors.js';
import type { StageOutcome } from './store/history.js';
import type { OutputDigest, StageKey } from './store/fingerprint.js';

export type { StageOutcome };

export type RunEvent =
  | { type: 'run-start'; runId: string; pipeline: string; stages: Array<{ id: string; type: string }>; dryRun: boolean }
  | { type: 'stage-queued'; id: string }
  | { type: 'stage-start'; id: string; key: StageKey; reasons: string[] }
  | { type: 'stage-cached'; id: string; key: StageKey; digest: OutputDigest }
  | { type: 'stage-would-run'; id: string; reasons: string[] }
  | { type: 'stage-waiting-lock'; id: string; holder: string }
  /** `rate`: units per second over recent progress; `etaMs`: time left at that rate (see progress.ts). */
  | { type: 'stage-progress'; id: string; done: number; total?: number; note?: string; rate?: number; etaMs?: number }
  | { type: 'stage-log'; id: string; level: 'info' | 'warn' | 'debug'; message: string }
  | { type: 'stage-done'; id: string; key: StageKey; digest: OutputDigest; durationMs: number }
  | { type: 'stage-failed'; id: string; code: FailureCode; message: string; durationMs: number }
  | { type: 'stage-skipped'; id: string; reason: string }
  | { type: 'stage-cancelled'; id: string }
  /** `wouldRun` (dry runs only): stages a real run would execute; they are not counted in `counts`. */
  | { type: 'run-end'; runId: string; status: 'ok' | 'failed' | 'cancelled'; counts: Record<StageOutcome, number>; wouldRun?: number; durationMs: number };

export type RunEventListener = (event: RunEvent) => void;
