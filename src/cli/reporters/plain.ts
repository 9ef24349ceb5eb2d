import type { RunEvent } from '../../engine/events.js';
import type { CliIO } from '../io.js';
import { formatDuration, runEndLine, shortKey, type Reporter } from './reporter.js';
import { progressText } from './progress-text.js';

/** Progress lines are throttled per stage: one every this many ms at most. */
const PROGRESS_EVERY_MS = 5000;

/** Line logs for CI and pipes: one line per state change, progress throttled, stage output indented. */
export class PlainReporter implements Reporter {
  private readonly lastProgress = new Map<string, number>();
  constructor(private readonly io: CliIO, private readonly verbose: boolean) {}

  private line(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  onEvent(e: RunEvent): void {
    switch (e.type) {
      case 'run-start':
        this.line(`${e.dryRun ? 'dry run of' : 'running'} pipeline ${e.pipeline} (${e.stages.length} stages)`);
        break;
      case 'stage-queued':
        break;
      case 'stage-start':
        this.line(`${e.id}: running${e.reasons.length ? ` (${e.reasons.join('; ')})` : ''}`);
        break;
      case 'stage-cached':
        this.line(`${e.id}: cached ${shortKey(e.key)}`);
        break;
      case 'stage-would-run':
        this.line(`${e.id}: would run (${e.reasons.join('; ') || 'stale'})`);
        break;
      case 'stage-waiting-lock':
        this.line(`${e.id}: waiting for ${e.holder}, which is writing the same cache entry`);
        break;
      case 'stage-progress': {
        const now = Date.now();
        if (now - (this.lastProgress.get(e.id) ?? 0) < PROGRESS_EVERY_MS && e.done !== e.total) break;
        this.lastProgress.set(e.id, now);
        this.line(`${e.id}: ${progressText(e, false)}`);
        break;
      }
      case 'stage-log':
        if (e.level !== 'debug' || this.verbose) this.line(`  ${e.id} | ${e.message}`);
        break;
      case 'stage-done':
        this.line(`${e.id}: done in ${formatDuration(e.durationMs)} ${shortKey(e.key)}`);
        break;
      case 'stage-failed':
        this.line(`${e.id}: FAILED after ${formatDuration(e.durationMs)}`);
        break;
      case 'stage-skipped':
        this.line(`${e.id}: skipped (${e.reason})`);
        break;
      case 'stage-cancelled':
        this.line(`${e.id}: cancelled`);
        break;
      case 'run-end':
        this.line(runEndLine(e));
        break;
      default: {
        const never: never = e;
        void never;
      }
    }
  }

  async close(): Promise<void> {}
}
