import type { ArtifactKind, ArtifactRef, InputLookup, Logger, StageContext } from './contract.js';
import type { StageRegistry } from './registry.js';
import type { CacheEntry } from './store/index.js';
import type { BuildContext, JobCallbacks, JobResult, StageJob, StageTask } from './stage-task.js';
import { UserError } from '../core/errors.js';
import { buildEntry } from './build.js';

/**
 * The executor seam. The scheduler owns keys, locks, cache lookups and the lock file; once it
 * has decided a stage must be built (and holds the key's writer lock) it hands a StageTask to
 * an Executor, which builds the cache entry and returns it:
 *
 *   LocalExecutor   stages → runs the stage in this process → publishes      (build.ts)
 *   SlurmExecutor   writes the task as JSON, sbatch `polypersona exec-job JOB.json`, which does
 *                   the same on a node against the shared cache; waits, returns the entry
 *
 * A StageTask is plain JSON (no closures, no live objects) so that it can cross machines: a job
 * file is the executor contract any scheduler can run (docs/cluster.md).
 */
export type { BuildContext, JobCallbacks, JobResult, StageJob, StageTask } from './stage-task.js';

export interface Executor {
  /** Recorded in stage.json's provenance as `executor`. */
  readonly name: string;
  /**
   * True when stages run on this machine's cores: the scheduler then admits them through its
   * gate (`--jobs`, exclusive stages alone). A cluster executor limits itself.
   */
  readonly inProcess: boolean;
  /** Builds (or finds, when another writer won) the entry of task.key. The caller holds the key lock. */
  build(task: StageTask, ctx: BuildContext): Promise<CacheEntry>;
}

/** Runs stages in this Node process (their heavy work runs on ONNX Runtime's native threads). */
export class LocalExecutor implements Executor {
  readonly name = 'local';
  readonly inProcess = true;
  constructor(private readonly registry: StageRegistry) {}

  build(task: StageTask, ctx: BuildContext): Promise<CacheEntry> {
    return buildEntry(ctx.store, task, (job, signal) => runStageInProcess(this.registry, job, ctx.callbacks, signal), {
      signal: ctx.signal,
      executor: this.name,
    });
  }
}

/** Calls the stage's run() here; returns what it recorded as provenance. */
export async function runStageInProcess(registry: StageRegistry, job: StageJob, callbacks: JobCallbacks, signal: AbortSignal): Promise<JobResult> {
  const definition = registry.get(job.type);
  const provenance: Record<string, unknown> = {};
  const ctx = buildStageContext(job, callbacks, signal, provenance);
  signal.throwIfAborted();
  await definition.run(ctx);
  signal.throwIfAborted();
  return { provenance };
}

/** The StageContext a stage sees, from a job (shared by every executor that runs stages in Node). */
export function buildStageContext(
  job: StageJob,
  callbacks: JobCallbacks,
  signal: AbortSignal,
  provenance: Record<string, unknown>,
): StageContext {
  const inputs: Record<string, ArtifactRef> = {};
  for (const ref of job.inputs) inputs[ref.stageId] = ref;
  const find = (kind: ArtifactKind, lookup: InputLookup | undefined): ArtifactRef[] => {
    // Breadth first: the nearest producer of `kind` wins; several at the same depth are ambiguous.
    let frontier = job.inputs;
    const seen = new Set<string>();
    while (frontier.length > 0) {
      const hits = frontier.filter((r) => r.kind === kind);
      if (hits.length > 0 || !lookup?.transitive) return dedupe(hits);
      for (const r of frontier) seen.add(r.key);
      const through = lookup.via ? frontier.filter((r) => lookup.via!.includes(r.kind)) : frontier;
      frontier = through.flatMap((r) => r.upstream).filter((r) => !seen.has(r.key));
    }
    return [];
  };
  const describe = (hits: ArtifactRef[]): string => hits.map((h) => h.stageId).join(', ');
  const log: Logger = {
    info: (m) => callbacks.log('info', m),
    warn: (m) => callbacks.log('warn', m),
    debug: (m) => callbacks.log('debug', m),
  };
  return {
    stageId: job.stageId,
    params: job.params,
    inputs,
    input(kind, options) {
      const hits = find(kind, options);
      if (hits.length === 0) {
        throw new UserError('missing-input', `stage "${job.stageId}" needs a "${kind}" input; add a stage producing one to its needs`);
      }
      if (hits.length > 1) {
        throw new UserError('ambiguous-input', `stage "${job.stageId}" has several "${kind}" inputs (${describe(hits)}); it takes exactly one`);
      }
      return hits[0]!;
    },
    optionalInput(kind, options) {
      const hits = find(kind, options);
      if (hits.length > 1) {
        throw new UserError('ambiguous-input', `stage "${job.stageId}" has several "${kind}" inputs (${describe(hits)}); it takes at most one`);
      }
      return hits[0];
    },
    outDir: job.outDir,
    workDir: job.workDir,
    pipelineDir: job.pipelineDir,
    seed: job.seed,
    threads: job.threads,
    progress: (done, total, note) => callbacks.progress(done, total, note),
    log,
    signal,
    recordProvenance(fields) {
      Object.assign(provenance, structuredClone(fields));
    },
  };
}

function dedupe(refs: ArtifactRef[]): ArtifactRef[] {
  const byKey = new Map<string, ArtifactRef>();
  for (const r of refs) if (!byKey.has(r.key)) byKey.set(r.key, r);
  return [...byKey.values()];
}
