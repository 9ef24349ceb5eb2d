import { color, DefaultRenderer, figures, Listr, ListrLogger, ProcessOutput, type ListrDefaultRendererTask, type ListrTaskWrapper, type SimpleRenderer } from 'listr2';
import type { RunEvent } from '../../engine/events.js';
import type { CliIO } from '../io.js';
import { progressText } from './progress-text.js';
import { formatDuration, runEndLine, shortKey, type Reporter } from './reporter.js';

type Task = ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>;

type Outcome = { ok: true; skip?: string; title?: string } | { ok: false; error: Error };

/**
 * What the live view knows of a stage, kept apart from its listr2 task: events can arrive before
 * listr2 has started the task (a stage that starts right after cached upstreams did), and the
 * task is brought up to date when it appears.
 */
interface StageView {
  id: string;
  /** waiting: for upstream stages; queued: for a free slot; locked: another process writes its key. */
  phase: 'waiting' | 'queued' | 'locked' | 'running';
  title: string;
  output: string;
  task?: Task;
  settle: (outcome: Outcome) => void;
  done: Promise<Outcome>;
}

/**
 * The human view on a terminal: a listr2 task per stage, updated from run events. A running
 * stage's title carries its progress (bar, count, rate, ETA and the stage's note, e.g. the
 * training loss) and its output line says why it runs; stages that wait (for upstream stages, a
 * free slot, or another process's lock) are drawn with a still icon, not a spinner. Cached stages
 * end as skipped with "cached".
 *
 * listr2's own SIGINT handler is off: Ctrl-C goes to main's handler, which cancels the run so that
 * it ends like any other (summary, history record, exit 130).
 */
export class ListrReporter implements Reporter {
  private readonly stages = new Map<string, StageView>();
  /** Tasks of stages that run: the only ones drawn with a spinner. */
  private readonly running = new WeakSet<object>();
  private listr?: Promise<unknown>;
  private summary = '';

  constructor(private readonly io: CliIO, private readonly verbose: boolean) {}

  onEvent(e: RunEvent): void {
    if (e.type === 'run-start') {
      this.start(e.stages.map((s) => s.id), e.dryRun);
      return;
    }
    if (e.type === 'run-end') {
      this.summary = runEndLine(e);
      return;
    }
    const view = this.stages.get(e.id);
    if (!view) return;
    switch (e.type) {
      case 'stage-queued':
        this.update(view, { phase: 'queued', title: `${e.id} (queued: waits for a free slot)` });
        break;
      case 'stage-start':
        this.update(view, { phase: 'running', title: `${e.id} (running${e.reasons.length ? `: ${e.reasons.join('; ')}` : ''})`, output: e.reasons.join('; ') });
        break;
      case 'stage-waiting-lock':
        this.update(view, { phase: 'locked', title: `${e.id} (waiting for ${e.holder}, which is writing the same cache entry)` });
        break;
      case 'stage-progress':
        this.update(view, { phase: 'running', title: `${e.id}  ${progressText(e, true)}` });
        break;
      case 'stage-log':
        if (e.level !== 'debug' || this.verbose) this.update(view, { output: e.message });
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

  private update(view: StageView, change: Partial<Pick<StageView, 'phase' | 'title' | 'output'>>): void {
    Object.assign(view, change);
    this.apply(view);
  }

  /** Brings the listr2 task (once it exists) in line with the view. */
  private apply(view: StageView): void {
    const task = view.task;
    if (!task) return;
    if (view.phase === 'running') this.running.add(task.task);
    else this.running.delete(task.task);
    if (task.title !== view.title) task.title = view.title;
    // Set again on every change: listr2 drops output given before its renderer first drew the task.
    if (view.output) task.output = view.output;
  }

  private start(ids: string[], dryRun: boolean): void {
    for (const id of ids) {
      let settle!: (outcome: Outcome) => void;
      const done = new Promise<Outcome>((resolve) => (settle = resolve));
      this.stages.set(id, { id, phase: 'waiting', title: dryRun ? id : `${id} (waiting)`, output: '', settle, done });
    }
    const running = this.running;
    /** listr2's renderer, with a still icon for waiting stages (listr2 spins every started task). */
    class LiveRenderer extends DefaultRenderer {
      // Chosen only when stdout is a terminal (chooseReporter); this lets tests render to a buffer.
      static override nonTTY = true;
      protected override style(task: ListrDefaultRendererTask, output = false): string {
        if (task.isStarted() && !running.has(task) && !output) return color.dim(figures.squareSmallFilled);
        return super.style(task, output);
      }
    }
    const listr = new Listr(
      ids.map((id) => ({
        title: this.stages.get(id)!.title,
        task: async (_ctx: unknown, task: Task) => {
          const view = this.stages.get(id)!;
          view.task = task;
          this.apply(view);
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
        registerSignalListeners: false,
        renderer: LiveRenderer,
        rendererOptions: {
          collapseSubtasks: false,
          showErrorMessage: false,
          logger: new ListrLogger({ useIcons: true, toStderr: [], processOutput: new ProcessOutput(this.io.stdout as NodeJS.WriteStream, this.io.stderr as NodeJS.WriteStream) }),
        },
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
