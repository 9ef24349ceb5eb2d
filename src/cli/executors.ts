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
 * $POLYPERSONA_JOB_COMMAND (a JSON list of words) overrides that where nodes keep Node or the
 * project elsewhere: `["/opt/node20/bin/node", "/shared/pp/dist/src/cli/main.js"]`.
 */
export function executorsFor(env: NodeJS.ProcessEnv, override: ExecutorKind | undefined): (stage: PlannedStage) => Executor {
  const polypersona = jobCommand(env);
  return chooseExecutors({
    registry: stageRegistry(),
    ...(override ? { override } : {}),
    slurm: polypersona ? { polypersona } : {},
  });
}

function jobCommand(env: NodeJS.ProcessEnv): string[] | undefined {
  const given = env.POLYPERSONA_JOB_COMMAND;
  if (given !== undefined && given !== '') {
    let words: unknown;
    try {
      words = JSON.parse(given);
    } catch {
      words = undefined;
    }
    if (!Array.isArray(words) || words.length === 0 || !words.every((w) => typeof w === 'string' && w !== '')) {
      throw new UserError('usage', `POLYPERSONA_JOB_COMMAND must be a JSON list of words, e.g. ["/opt/node/bin/node", "/shared/pp/dist/src/cli/main.js"]; got ${given}`);
    }
    return words as string[];
  }
  const entry = process.argv[1];
  return entry ? [process.execPath, ...process.execArgv, entry] : undefined;
}
