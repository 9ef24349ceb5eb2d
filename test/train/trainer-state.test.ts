import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRAINER_STATE_FILE, writeTrainerState, type TrainerStateInput } from '../../src/train/trainer-state.js';
import { tempDir } from '../helpers/stage-context.js';

const split = (n: number, skipped: string[] = [], truncated: string[] = []) => ({ examples: Array.from({ length: n }, (_, i) => ({ id: `r${i}`, ids: [1], labels: [-100], tokens: 0 })), skipped, truncated });

function state(best: boolean, full = false): TrainerStateInput {
  return {
    result: {
      totalSteps: 4,
      state: { step: 4, fingerprint: 'fp', logHistory: [{ step: 4, epoch: 1, loss: 2.5, eval_loss: 2.75 }], ...(best ? { best: { step: 2, evalLoss: 2.6 } } : {}) },
    },
    num_train_epochs: 1, full, train: split(3, ['r9'], ['r7']), val: split(1),
  };
}

describe('trainer_state.json', () => {
  it('writes transformers\' fields first, then the record counts and lists, in a fixed key order', () => {
    const dir = tempDir('pp-state-');
    try {
      writeTrainerState(dir, state(true));
      const text = readFileSync(join(dir, TRAINER_STATE_FILE), 'utf8');
      expect(Object.keys(JSON.parse(text))).toEqual(['global_step', 'max_steps', 'num_train_epochs', 'best_metric', 'best_model_checkpoint', 'adapter_is', 'train_examples', 'val_examples', 'skipped_records', 'truncated_records', 'log_history']);
      expect(JSON.parse(text)).toMatchObject({ global_step: 4, max_steps: 4, best_metric: 2.6, best_model_checkpoint: 'step-2', adapter_is: 'best by eval_loss', train_examples: 3, val_examples: 1, skipped_records: { train: ['r9'], val: [] }, truncated_records: { train: ['r7'], val: [] } });
      expect(text.endsWith('}\n')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what the output is without a val split, and for full fine-tuning', () => {
    const dir = tempDir('pp-state-');
    try {
      writeTrainerState(dir, state(false, true));
      const json = JSON.parse(readFileSync(join(dir, TRAINER_STATE_FILE), 'utf8'));
      expect(json).toMatchObject({ best_metric: null, best_model_checkpoint: null, weights_are: 'final (no val split)' });
      expect(json.adapter_is).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
