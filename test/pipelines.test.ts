import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadPipeline } from '../src/engine/pipeline/index.js';
import { builtinRegistry } from '../stages/index.js';

const dir = fileURLToPath(new URL('../pipelines/', import.meta.url));

describe('shipped pipelines', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.endsWith('.lock.yaml'));

  it('include smoke, paper and models', () => {
    expect(files).toEqual(expect.arrayContaining(['smoke.yaml', 'paper.yaml', 'models.yaml']));
  });

  for (const file of files) {
    it(`${file} validates against the built-in stages`, () => {
      const p = loadPipeline(join(dir, file), builtinRegistry());
      expect(p.stages.size).toBeGreaterThan(0);
    });
  }

  it('the paper pipeline names the paper\'s LoRA recipe', () => {
    const adapter = loadPipeline(join(dir, 'paper.yaml'), builtinRegistry()).stages.get('adapter')!;
    expect(adapter.params).toMatchObject({
      r: 16, lora_alpha: 32, lora_dropout: 0.05, learning_rate: 2e-4, weight_decay: 0.001, lr_scheduler_type: 'cosine',
      warmup_ratio: 0.03, num_train_epochs: 3, per_device_train_batch_size: 4, gradient_accumulation_steps: 4, max_grad_norm: 0.3,
      target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    });
  });

  it('the model table expands one chain per model and one report over all of them', () => {
    const p = loadPipeline(join(dir, 'models.yaml'), builtinRegistry());
    const scores = [...p.stages.keys()].filter((id) => id.startsWith('scores['));
    expect(scores).toHaveLength(7);
    expect(p.stages.get('report')!.needs.sort()).toEqual(scores.sort());
  });
});
