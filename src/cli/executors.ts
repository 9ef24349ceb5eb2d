/** `--executor KIND` for run and watch, and the executors the CLI hands to the scheduler. */
import { UserError } from '../core/errors.js';
import { chooseExecutors, EXECUTOR_KINDS, type ExecutorKind } from '../engine/executors/index.js';
import type { Executor } from '../engine/executor.js';
import type { PlannedStage } from '../engine/pipeline/index.js';
import { stageRegistry } from './project.js';

export function executorOption(command: string, value: string | undefined): ExecutorKind | undefined {
  if (value === undefined) return undefined;
  if (!(EXECUTOR_KINDS as readonly string[]).includes(value)) {
    throw new UserError('usage', `${command}: --executor must be one of ${EXECUTOR_KINDS.join(', ')}, got "${value}"`);
  }
  return value as ExecutorKind;
}

/**
 * Cluster jobs start polypersona the way this process was started (the same Node binary, flags
 * and entry script: the built CLI, or the sources through tsx), so the node runs the same code.
 */
export function executorsFor(override: ExecutorKind | undefined): (stage: PlannedStage) => Executor {
  const entry = process.argv[1];
  return chooseExecutors({
    registry: stageRegistry(),
    ...(override ? { override } : {}),
    slurm: entry ? { polypersona: [process.execPath, ...process.execArgv, entry] } : {},
  });
}
