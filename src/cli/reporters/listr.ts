import { Listr, type ListrTaskWrapper, type DefaultRenderer, type SimpleRenderer } from 'listr2';
import type { RunEvent } from '../../engine/events.js';
import type { CliIO } from '../io.js';
import { formatDuration, shortKey, type Reporter } from './reporter.js';

type Task = ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>;

type Outcome = { ok: true; skip?: string; title?: string } | { ok: false; error: Error };

interface StageView {
  task?: Task;
  /** Settles once; events may arrive before listr2 has started the stage's task. */
  settle: (outcome: Outcome) => void;
  done: Promise<Outcome>;
}

/**
 * The human view: a listr2 task per stage, updated from run events. Cached stages are shown as
 * skipped with "cached"; progress goes to the task's output line.
 */
export class ListrReporter implements Reporter {
  private readonly stages = new Map<string, StageView>();
  private listr?: Promise<unknown>;
  private summary = '';

  constructor(private readonly io: CliIO, private readonly verbose: boolean) {}

  onEvent(e: RunEvent): void {
    if (e.type === 'run-start') {
      this.start(e.stages.map((s) => s.id), e.dryRun);
      return;
    }
    if (e.type === 'run-end') {
      const c = e.counts;
      this.summary = `${e.status}: ${c.ran} ran, ${c.cached} cached, ${c.failed} failed, ${c.skipped} skipped in ${formatDuration(e.durationMs)}`;
      return;
    }
    const view = this.stages.get(e.id);
    if (!view) return;
    const task = view.task;
    switch (e.type) {
      case 'stage-queued':
        if (task) task.title = `${e.id} (queued)`;
        break;
      case 'stage-start':
        if (task) {
          task.title = `${e.id}`;
          task.output = e.reasons.join('; ');
        }
        break;
      case 'stage-waiting-lock':
        if (task) task.output = `waiting for ${e.holder}`;
        break;
      case 'stage-progress':
        if (task) task.output = `${e.total ? `${e.done}/${e.total}` : e.done}${e.note ? ` ${e.note}` : ''}`;
        break;
      case 'stage-log':
        if (task && (e.level !== 'debug' || this.verbose)) task.output = e.message;
        break;
      case 'stage-cached':
        view.settle({ ok: true, skip: `${e.id} (cached ${shortKey(e.key)})` });
        break;
      case 'stage-would-run':
        view.settle({ ok: true, skip: `${e.id} (would run: ${e.reasons.join('; ') || 'stale'})` });
        break;
      case 'stage-done':
        view.settle({ ok: true, title: `${e.id} (${formatDuration(e.durationMs)})` });
        break;
      case 'stage-failed':
        view.settle({ ok: false, error: new Error(`${e.id} failed`) });
        break;
      case 'stage-skipped':
        view.settle({ ok: true, skip: `${e.id} (skipped: ${e.reason})` });
        break;
      case 'stage-cancelled':
        view.settle({ ok: true, skip: `${e.id} (cancelled)` });
        break;
    }
  }

  private start(ids: string[], dryRun: boolean): void {
    for (const id of ids) {
      let settle!: (outcome: Outcome) => void;
      const done = new Promise<Outcome>((resolve) => (settle = resolve));
      this.stages.set(id, { settle, done });
    }
    const listr = new Listr(
      ids.map((id) => ({
        title: dryRun ? `${id}` : `${id} (waiting)`,
        task: async (_ctx: unknown, task: Task) => {
          const view = this.stages.get(id)!;
          view.task = task;
          const outcome = await view.done;
          if (!outcome.ok) throw outcome.error;
          if (outcome.title) task.title = outcome.title;
          if (outcome.skip) task.skip(outcome.skip);
        },
      })),
      {
        concurrent: true,
        exitOnError: false,
        collectErrors: false,
        rendererOptions: { collapseSubtasks: false, showErrorMessage: false },
      },
    );
    this.listr = listr.run().catch(() => undefined);
  }

  async close(): Promise<void> {
    // A run that threw leaves stages without a final event: end their tasks, or listr2 waits forever.
    for (const [id, view] of this.stages) view.settle({ ok: true, skip: `${id} (not run)` });
    await this.listr;
    if (this.summary) this.io.stdout.write(`${this.summary}\n`);
  }
}
