import { describe, expect, it } from 'vitest';
import { LINEAR_MODULES } from '../../src/model/architectures/llama.js';
import { presetConfig } from '../../src/model/presets.js';
import { trainingStepFlops } from '../../src/train/flops.js';
import { loraSites } from '../../src/train/lora.js';

describe('training step FLOPs', () => {
  const cfg = presetConfig('tinyllama-1.1b');
  const sites = loraSites(cfg, { r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: [...LINEAR_MODULES] });

  it('count the 1.1B step of docs/training.md by hand: 2·N·P forward, the same backward, attention and LoRA', () => {
    const N = 1024;
    const P = 22 * (2048 * 2048 * 2 + 256 * 2048 * 2 + 5632 * 2048 * 3) + 32000 * 2048; // linears + LM head
    const f = trainingStepFlops(cfg, 4, 256, sites, 16);
    expect(f.baseForward).toBe(2 * N * P);
    expect(f.baseBackward).toBe(2 * N * P);
    expect(f.attention).toBe(22 * 6 * 2 * 4 * 32 * 256 * 256 * 64);
    expect(f.weightGradients).toBe(0);
    expect(f.total / 1e9).toBeCloseTo(4456.2, 1);
  });

  it('add the weight gradients for full fine-tuning, and no LoRA without sites', () => {
    const lora = trainingStepFlops(cfg, 4, 256, sites, 16);
    const full = trainingStepFlops(cfg, 4, 256, [], 16, true);
    expect(full.lora).toBe(0);
    expect(full.weightGradients).toBe(full.baseForward);
    expect(full.total).toBe(lora.total - lora.lora + full.baseForward);
  });
});
