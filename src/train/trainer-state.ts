/**
 * `trainer_state.json`, the run's log as transformers' Trainer writes it (global_step, max_steps,
 * best_metric, best_model_checkpoint, log_history), plus what this project adds: the example
 * counts and the records left out or truncated, by id. The key order is fixed, so the file hashes
 * the same for the same run.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import type { EncodeResult } from './data.js';
import type { TrainerResult } from './trainer.js';

export const TRAINER_STATE_FILE = 'trainer_state.json';

export interface TrainerStateInput {
  result: Pick<TrainerResult, 'state' | 'totalSteps'>;
  num_train_epochs: number;
  /** Full fine-tuning writes weights, not an adapter. */
  full: boolean;
  train: Pick<EncodeResult, 'examples' | 'skipped' | 'truncated'>;
  val: Pick<EncodeResult, 'examples' | 'skipped' | 'truncated'>;
}

export function trainerStateJson(input: TrainerStateInput): Record<string, unknown> {
  const { state } = input.result;
  return {
    global_step: state.step,
    max_steps: input.result.totalSteps,
    num_train_epochs: input.num_train_epochs,
    best_metric: state.best?.evalLoss ?? null,
    best_model_checkpoint: state.best ? `step-${state.best.step}` : null,
    [input.full ? 'weights_are' : 'adapter_is']: state.best ? 'best by eval_loss' : 'final (no val split)',
    train_examples: input.train.examples.length,
    val_examples: input.val.examples.length,
    skipped_records: { train: input.train.skipped, val: input.val.skipped },
    truncated_records: { train: input.train.truncated, val: input.val.truncated },
    log_history: state.logHistory,
  };
}

export function writeTrainerState(dir: string, input: TrainerStateInput): void {
  writeFileAtomic(join(dir, TRAINER_STATE_FILE), `${JSON.stringify(trainerStateJson(input), null, 2)}\n`);
}
