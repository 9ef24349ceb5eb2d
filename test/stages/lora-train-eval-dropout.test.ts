/**
 * eval_loss scores the adapter as it is saved (and as PEFT runs it, dropout off at evaluation),
 * whatever lora_dropout trains with: the engine folds dropout's 1/(1 − p) into the LoRA scaling,
 * and evaluation used to keep it, inflating every branch by 1/(1 − p). Found by the interop
 * suite (PEFT's val loss of the same adapter); here with fixtures made by code.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initLlamaWeights } from '../../src/model/init/index.js';
import { writeModelDir } from '../../src/model/model-dir.js';
import { presetConfig } from '../../src/model/presets.js';
import { byteLevelTokenizerFiles } from '../../src/model/tokenizer/index.js';
import stage from '../../stages/lora-train/index.js';
import type { LoraTrainParams } from '../../stages/lora-train/params.js';
import { artifact, makeStageContext, tempDir } from '../helpers/stage-context.js';

let root: string;
let modelDir: string;
let chatmlDir: string;

function records(n: number, offset: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({
    id: `r${i + offset}`,
    messages: [
      { role: 'user', content: `Question ${i + offset}: how many?` },
      { role: 'assistant', content: `About ${(i + offset) % 7} of them.` },
    ],
  })).join('\n');
}

beforeAll(() => {
  root = tempDir('pp-eval-dropout-');
  modelDir = join(root, 'model');
  const cfg = { ...presetConfig('tiny'), numHiddenLayers: 1 };
  writeModelDir(modelDir, cfg, initLlamaWeights(cfg, 5), byteLevelTokenizerFiles({}));
  chatmlDir = join(root, 'chatml');
  mkdirSync(chatmlDir);
  writeFileSync(join(chatmlDir, 'train.jsonl'), records(8, 0));
  writeFileSync(join(chatmlDir, 'val.jsonl'), records(4, 8));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(params: Partial<LoraTrainParams>): Promise<{ outDir: string; evalLoss: number }> {
  const { ctx, outDir } = makeStageContext(stage, { r: 4, lora_alpha: 8, per_device_train_batch_size: 4, gradient_accumulation_steps: 1, save_steps: 0, seed: 1, ...params }, { inputs: [artifact('model', modelDir, 'base'), artifact('chatml', chatmlDir, 'chatml')], threads: 1 });
  await stage.run(ctx);
  const state = JSON.parse(readFileSync(join(outDir, 'trainer_state.json'), 'utf8')) as { log_history: Array<{ eval_loss?: number }> };
  return { outDir, evalLoss: state.log_history.filter((e) => e.eval_loss !== undefined).pop()!.eval_loss! };
}

describe('lora-train evaluation with lora_dropout', () => {
  it('gives the same eval_loss for the same adapter whether it trains with dropout or not', async () => {
    // An adapter with non-zero B (a fresh one has B = 0, where the scaling cannot show).
    const trained = await run({ max_steps: 4, learning_rate: 0.05, lora_dropout: 0 });
    // Continue from it for one step at a vanishing learning rate: the adapter stays what it was.
    const still = { init_adapter: trained.outDir, max_steps: 1, learning_rate: 1e-12, warmup_ratio: 0 };
    const without = await run({ ...still, lora_dropout: 0 });
    const withDropout = await run({ ...still, lora_dropout: 0.3 });
    expect(without.evalLoss).toBeCloseTo(trained.evalLoss, 5);
    expect(withDropout.evalLoss).toBeCloseTo(without.evalLoss, 5);
  });
});
