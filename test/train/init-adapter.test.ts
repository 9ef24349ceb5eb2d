import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { writeAdapter } from '../../src/train/adapter.js';
import { loraFromAdapter } from '../../src/train/init-adapter.js';
import { initLora, loraSites, type LoraConfig } from '../../src/train/lora.js';
import { tinyConfig } from '../model/llama/fixtures.js';
import { tempDir } from '../helpers/stage-context.js';

const cfg = tinyConfig();
const lora: LoraConfig = { r: 2, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'down_proj'] };

function savedAdapter(): { dir: string; params: ReturnType<typeof initLora> } {
  const sites = loraSites(cfg, lora);
  const params = initLora(sites, lora.r, 3);
  params.forEach((p) => p.B.forEach((_, i, b) => (b[i] = Math.fround(0.25 * Math.sin(i)))));
  const dir = tempDir('pp-init-adapter-');
  writeAdapter(dir, lora, sites, params, 'tiny');
  return { dir, params };
}

describe('init_adapter start', () => {
  it('copies the adapter and rescales B when lora_alpha differs, so the adapter computes the same function', () => {
    const { dir, params } = savedAdapter();
    try {
      const same = loraFromAdapter(dir, cfg, lora, loraSites(cfg, lora));
      expect(same).toEqual(params);
      expect(same[0]!.A).not.toBe(params[0]!.A);
      const doubled = loraFromAdapter(dir, cfg, { ...lora, lora_alpha: 16 }, loraSites(cfg, lora));
      doubled.forEach((p, i) => p.B.forEach((v, j) => expect(v).toBe(Math.fround(params[i]!.B[j]! / 2))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a rank or module mismatch', () => {
    const { dir } = savedAdapter();
    try {
      const r4 = { ...lora, r: 4 };
      expect(() => loraFromAdapter(dir, cfg, r4, loraSites(cfg, r4))).toThrow(/init_adapter has r 2, but this run trains r 4/);
      const more = { ...lora, target_modules: ['q_proj', 'v_proj', 'down_proj'] };
      expect(() => loraFromAdapter(dir, cfg, more, loraSites(cfg, more))).toThrow(/does not cover the same modules as target_modules \[q_proj, v_proj, down_proj\] \(missing model\.layers\.0\.self_attn\.v_proj\)/);
      const fewer = { ...lora, target_modules: ['q_proj'] };
      expect(() => loraFromAdapter(dir, cfg, fewer, loraSites(cfg, fewer))).toThrow(/\(extra model\.layers\.0\.mlp\.down_proj\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
