import type { ArtifactKind, ArtifactRef, InputLookup, Logger, StageContext } from './contract.js';
import type { StageRegistry } from './registry.js';
import { UserError } from '../core/errors.js';

/**
 * The executor seam: how one stage's run() gets executed once the scheduler has decided it must
 * run. The job is plain, JSON-serialisable data (no closures), so that an executor can ship it
 * elsewhere — a SLURM executor writes it to the shared filesystem, submits a job that runs
 * `polypersona exec-job JOB.json` against the same cache, and waits — while the scheduler keeps
 * ownership of keys, locks and publishing. LocalExecutor runs it in this process.
 */
export interface StageJob {
  stageId: string;
  type: string;
  /** Params with runtime expressions already substituted. */
  params: Record<string, unknown>;
  inputs: ArtifactRef[];
  outDir: string;
  workDir: string;
  pipelineDir: string;
  seed: number;
  threads: number;
}

export interface JobCallbacks {
  progress(done: number, total?: number, note?: string): void;
  log(level: 'info' | 'warn' | 'debug', message: string): void;
}

export interface JobResult {
  /** Fields the stage added with ctx.recordProvenance. */
  provenance: Record<string, unknown>;
}

export interface Executor {
  readonly name: string;
  execute(job: StageJob, callbacks: JobCallbacks, signal: AbortSignal): Promise<JobResult>;
}

/** Runs stages in this Node process (their heavy work runs on ONNX Runtime's native threads). */
export class LocalExecutor implements Executor {
  readonly name = 'local';
  constructor(private readonly registry: StageRegistry) {}

  async execute(job: StageJob, callbacks: JobCallbacks, signal: AbortSignal): Promise<JobResult> {
    const definition = this.registry.get(job.type);
    const provenance: Record<string, unknown> = {};
    const ctx = buildStageContext(job, callbacks, signal, provenance);
    signal.throwIfAborted();
    await definition.run(ctx);
    signal.throwIfAborted();
    return { provenance };
  }
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
