import { resolve } from 'node:path';
import type { FSWatcher } from 'chokidar';
import { loadPipeline, type LoadedPipeline } from './pipeline/index.js';
import type { StageRegistry } from './registry.js';
import { runPipeline, type RunOptions, type RunSummary } from './scheduler.js';
import type { ArtifactStore } from './store/index.js';
import type { RunEvent } from './events.js';
import { UserError } from '../core/errors.js';

/**
 * Watch mode: re-run what an edit touches.
 *
 *            change                 quiet for debounceMs
 *   idle ──────────────▶ debouncing ───────────────────▶ running ──done──▶ idle
 *     ▲                     ▲   │change: restart timer      │
 *     │                     │   ◀──────────────────────────┘ change: abort the run (AbortSignal),
 *     │                     │                                 wait for it to settle, then debounce
 *     └── invalid pipeline: report it, keep watching the file and the last good deps
 *
 * Every run is a normal `run`: the cache makes it re-execute only stages whose key changed (the
 * edited stage and what depends on it); stages cancelled mid-run are simply stale next time.
 */
export type WatchEvent =
  | { type: 'watch-ready'; paths: string[] }
  | { type: 'watch-change'; paths: string[] }
  | { type: 'watch-invalid'; error: unknown }
  | { type: 'watch-run-end'; summary: RunSummary }
  | { type: 'watch-restart' }
  | RunEvent;

export interface WatchOptions {
  pipelineFile: string;
  registry: StageRegistry;
  store: ArtifactStore;
  /** Extra files or folders to watch (e.g. question-bank/). */
  extraPaths?: string[];
  debounceMs?: number;
  runOptions?: Omit<RunOptions, 'signal' | 'onEvent'>;
  onEvent: (event: WatchEvent) => void;
  signal: AbortSignal;
}

export async function watchPipeline(options: WatchOptions): Promise<void> {
  const { watch } = await import('chokidar');
  const debounceMs = options.debounceMs ?? 300;
  const pipelineFile = resolve(options.pipelineFile);
  let watched = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let current: { controller: AbortController; done: Promise<void> } | undefined;
  let changed = new Set<string>();
  let watcher: FSWatcher | undefined;

  const load = (): LoadedPipeline | undefined => {
    try {
      return loadPipeline(pipelineFile, options.registry);
    } catch (error) {
      options.onEvent({ type: 'watch-invalid', error });
      return undefined;
    }
  };

  const updateWatched = (pipeline: LoadedPipeline | undefined): void => {
    const next = new Set<string>([pipelineFile, ...(options.extraPaths ?? []).map((p) => resolve(p))]);
    if (pipeline) for (const stage of pipeline.stages.values()) for (const dep of stage.fileDeps) next.add(dep);
    else for (const p of watched) next.add(p); // keep the last good deps while the file is broken
    const added = [...next].filter((p) => !watched.has(p));
    const removed = [...watched].filter((p) => !next.has(p));
    if (added.length) watcher?.add(added);
    if (removed.length) watcher?.unwatch(removed);
    watched = next;
  };

  const startRun = (pipeline = load()): void => {
    updateWatched(pipeline);
    if (!pipeline) return;
    const controller = new AbortController();
    const done = runPipeline(pipeline, options.store, options.registry, {
      ...options.runOptions,
      signal: controller.signal,
      onEvent: options.onEvent,
    }).then(
      (summary) => options.onEvent({ type: 'watch-run-end', summary }),
      (error) => options.onEvent({ type: 'watch-invalid', error }),
    );
    current = { controller, done };
    void done.finally(() => {
      if (current?.done === done) current = undefined;
    });
  };

  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void (async () => {
        if (current) {
          options.onEvent({ type: 'watch-restart' });
          current.controller.abort(new UserError('cancelled', 'restarted by a change'));
          await current.done;
          // Watching may have stopped while that run settled: start nothing after it returns.
          if (options.signal.aborted) return;
        }
        options.onEvent({ type: 'watch-change', paths: [...changed] });
        changed = new Set();
        startRun();
      })();
    }, debounceMs);
  };

  // chokidar needs its first paths up front to report 'ready'.
  const initial = load();
  updateWatched(initial);
  const active = watch([...watched], { ignoreInitial: true, persistent: true });
  watcher = active;
  // A watcher error (EACCES on a dep, too many watches) is reported like an invalid pipeline:
  // the run goes on and the user sees why edits are not picked up.
  active.on('error', (error) => options.onEvent({ type: 'watch-invalid', error }));
  active.on('all', (_event, path) => {
    changed.add(path);
    schedule();
  });
  await new Promise<void>((ready) => active.once('ready', () => ready()));
  options.onEvent({ type: 'watch-ready', paths: [...watched] });
  if (initial) startRun(initial);

  await new Promise<void>((stop) => {
    if (options.signal.aborted) return stop();
    options.signal.addEventListener('abort', () => stop(), { once: true });
  });
  if (timer) clearTimeout(timer);
  if (current) {
    current.controller.abort(options.signal.reason);
    await current.done;
  }
  await active.close();
}
