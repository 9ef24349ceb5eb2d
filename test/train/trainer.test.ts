import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { StageFailure } from '../../src/core/errors.js';
import type { LlamaConfig } from '../../src/model/config.js';
import { initLlamaWeights } from '../../src/model/init/index.js';
import type { TrainingArguments } from '../../src/train/arguments.js';
import type { Example } from '../../src/train/data.js';
import { initLora, loraSites, type LoraConfig } from '../../src/train/lora.js';
import { train, type TrainerInput } from '../../src/train/trainer.js';
import { tempDir } from '../helpers/stage-context.js';

const cfg: LlamaConfig = {
  architecture: 'llama', vocabSize: 24, hiddenSize: 32, intermediateSize: 48, numHiddenLayers: 1, numAttentionHeads: 4, numKeyValueHeads: 2,
  headDim: 8, rmsNormEps: 1e-5, ropeTheta: 10000, maxPositionEmbeddings: 64, tieWordEmbeddings: false, attentionBias: false, eosTokenId: [2], torchDtype: 'float32',
};

/** A learnable pattern: after the prompt [1, k], the sequence counts up from k (labels shifted, prompt unlabelled). */
function example(k: number, length: number): Example {
  const ids = [1, ...Array.from({ length: length - 1 }, (_, t) => 3 + ((k + t) % 20))];
  const labels = ids.map((_, t) => (t < 1 || t + 1 >= ids.length ? -100 : ids[t + 1]!));
  return { id: `e${k}`, ids, labels, tokens: labels.filter((l) => l !== -100).length };
}
const TRAIN = Array.from({ length: 10 }, (_, k) => example(k, 5 + (k % 3)));
const VAL = [example(11, 6), example(12, 7)];

const ARGS: TrainingArguments = {
  learning_rate: 0.02, weight_decay: 0.01, adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8, lr_scheduler_type: 'constant', warmup_ratio: 0,
  num_train_epochs: 2, per_device_train_batch_size: 4, gradient_accumulation_steps: 1, max_grad_norm: 1, max_steps: -1, eval_steps: 0,
  save_steps: 0, logging_steps: 1, seed: 5,
};
const LORA: LoraConfig = { r: 2, lora_alpha: 4, lora_dropout: 0.1, target_modules: ['q_proj', 'v_proj', 'down_proj'] };

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh run's input (the step consumes the base, and LoRA tensors are updated in place). */
function input(args: Partial<TrainingArguments> = {}, extra: Partial<TrainerInput> = {}, lora: LoraConfig = LORA): TrainerInput {
  const workDir = tempDir('pp-trainer-');
  made.push(workDir);
  const sites = loraSites(cfg, lora);
  return {
    base: { config: cfg, weights: initLlamaWeights(cfg, 3, { initializerRange: 0.2 }) },
    trainable: { kind: 'lora', lora, sites, params: initLora(sites, lora.r, 7) },
    train: TRAIN, val: VAL, padTokenId: 0, args: { ...ARGS, ...args }, threads: 1, workDir, fingerprint: 'test', ...extra,
  };
}

describe('trainer', () => {
  it('lowers the loss, logs every logging_steps step (and the last), counts every step\'s tokens, keeps the best adapter by val loss', async () => {
    const result = await train(input({ logging_steps: 2, eval_steps: 3 }));
    const steps = 2 * Math.ceil(TRAIN.length / 4); // 2 epochs of 3 batches
    expect(result.totalSteps).toBe(steps);
    expect(result.state.logHistory.map((e) => e.step)).toEqual([2, 3, 4, 6]); // even steps, evaluations (3, 6), the last
    expect(result.state.logHistory.filter((e) => e.eval_loss !== undefined).map((e) => e.step)).toEqual([3, 6]);
    const losses = result.state.logHistory.map((e) => e.loss!);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(result.throughput.map((t) => t.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result.throughput.reduce((s, t) => s + t.tokens, 0)).toBe(2 * TRAIN.reduce((s, e) => s + e.tokens, 0));
    expect(result.state.best!.step).toBe(result.state.logHistory.filter((e) => e.eval_loss !== undefined).sort((a, b) => a.eval_loss! - b.eval_loss!)[0]!.step);
    expect(result.best).toHaveLength(loraSites(cfg, LORA).length);
  });

  it('resumes a killed run from its last checkpoint and ends with the uninterrupted run\'s adapter, bit for bit', async () => {
    const whole = await train(input({ save_steps: 2 }));
    const abort = new AbortController();
    const killed = input({ save_steps: 2 }, { signal: abort.signal, onStep: (step) => step === 3 && abort.abort(new Error('killed')) });
    await expect(train(killed)).rejects.toThrow('killed');
    const resumed = await train({ ...input({ save_steps: 2 }), workDir: killed.workDir });
    expect(resumed.resumedFromStep).toBe(2);
    expect(resumed.state.logHistory).toEqual(whole.state.logHistory);
    resumed.final.forEach((t, i) => {
      expect(t.A).toEqual(whole.final[i]!.A);
      expect(t.B).toEqual(whole.final[i]!.B);
    });
  });

  it('normalises by the tokens of the whole optimizer step: 2 micro-batches of 1 give the loss and gradient norm of one batch of 2', async () => {
    // Without dropout: its masks are drawn per micro-batch, so they differ between the two runs.
    const noDropout = { ...LORA, lora_dropout: 0 };
    const one = await train(input({ per_device_train_batch_size: 2, max_steps: 1 }, { val: [] }, noDropout));
    const two = await train(input({ per_device_train_batch_size: 1, gradient_accumulation_steps: 2, max_steps: 1 }, { val: [] }, noDropout));
    const [a, b] = [one.state.logHistory[0]!, two.state.logHistory[0]!];
    expect(b.num_tokens).toBe(a.num_tokens);
    expect(Math.abs(b.loss! - a.loss!)).toBeLessThan(1e-5 * a.loss!);
    expect(Math.abs(b.grad_norm! - a.grad_norm!)).toBeLessThan(1e-4 * a.grad_norm!);
  });

  it('without a val split the best adapter is the final one', async () => {
    const result = await train(input({ max_steps: 2 }, { val: [] }));
    expect(result.state.best).toBeUndefined();
    expect(result.best).toEqual(result.final);
  });

  it('stops a diverging run with non-finite-loss, naming the step and the checkpoint it keeps', async () => {
    const run = input({ learning_rate: 1e30, max_grad_norm: 0, save_steps: 1 }, { val: [] });
    const failure = await train(run).then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(StageFailure);
    expect((failure as StageFailure).message).toMatch(/training diverged at optimizer step \d+: loss (NaN|Infinity)|gradient norm (NaN|Infinity)/);
    expect((failure as StageFailure).message).toMatch(/The last good checkpoint \(step \d+\) is kept in/);
  });
});
