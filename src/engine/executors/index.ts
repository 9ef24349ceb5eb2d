/**
 * Executors by kind, and which one builds each stage: `run --executor KIND` for every stage, else
 * the stage's `executor:` setting (merged with the pipeline's), else local.
 *
 * Whatever the choice, a stage whose key has a live job ticket (a cluster job left by a run that
 * was killed) is reattached to that job instead of being built again: `run --executor local`
 * after an interrupted cluster run does not duplicate the job's work.
 */
import { LocalExecutor, type BuildContext, type Executor, type StageTask } from '../executor.js';
import type { PlannedStage } from '../pipeline/index.js';
import type { StageRegistry } from '../registry.js';
import type { CacheEntry } from '../store/index.js';
import type { ExecutorKind } from './settings.js';
import { SlurmMissingError } from './slurm/client.js';
import { SlurmExecutor, type SlurmExecutorOptions } from './slurm/executor.js';
import { readTicket, removeTicket } from './ticket.js';
import { unreachable } from '../../core/errors.js';

export { EXECUTOR_KINDS, type ExecutorKind, type ExecutorSettings } from './settings.js';
export { SlurmExecutor, type SlurmExecutorOptions } from './slurm/executor.js';
export { SlurmClient } from './slurm/client.js';
export { runJob, runJobFile } from './exec-job.js';
export { readJobFile, readJobResult, JobFileError, type ExecJobFile, type ExecJobResult } from './job-file.js';

export interface ExecutorChoiceOptions {
  registry: StageRegistry;
  /** `run --executor KIND`: overrides every stage's kind. */
  override?: ExecutorKind;
  slurm?: SlurmExecutorOptions;
}

/** A function for RunOptions.executorFor. Executors are made on first use (a local run never touches SLURM). */
export function chooseExecutors(options: ExecutorChoiceOptions): (stage: PlannedStage) => Executor {
  let slurm: SlurmExecutor | undefined;
  const slurmExecutor = (): SlurmExecutor => (slurm ??= new SlurmExecutor(options.slurm));
  const local = new ReattachingLocalExecutor(options.registry, slurmExecutor);
  return (stage) => {
    const kind = options.override ?? stage.executor?.kind ?? 'local';
    switch (kind) {
      case 'local':
        return local;
      case 'slurm':
        return slurmExecutor();
      default: {
        return unreachable(kind);
      }
    }
  };
}

/** LocalExecutor that first reattaches to a cluster job a killed run left for the same key. */
class ReattachingLocalExecutor implements Executor {
  readonly name = 'local';
  readonly inProcess = true;
  private readonly local: LocalExecutor;

  constructor(
    registry: StageRegistry,
    private readonly slurm: () => SlurmExecutor,
  ) {
    this.local = new LocalExecutor(registry);
  }

  async build(task: StageTask, ctx: BuildContext): Promise<CacheEntry> {
    if (readTicket(ctx.store, task.key)?.executor === 'slurm') {
      try {
        const entry = await this.slurm().resume(task, ctx);
        if (entry) return entry;
      } catch (err) {
        // No SLURM commands here: the ticket's job cannot be asked about; build locally.
        if (!(err instanceof SlurmMissingError)) throw err;
        removeTicket(ctx.store, task.key);
      }
    }
    return this.local.build(task, ctx);
  }
}
