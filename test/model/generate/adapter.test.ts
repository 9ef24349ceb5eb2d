/**
 * readPeftAdapter matches an adapter's tensors to the base model through the architecture
 * registry: phi's and an MoE's module paths load, a tensor of no module or of the wrong shape is
 * named, and transformers 5's fused-experts layout is refused by name.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { peftAdapterConfig, peftLoraTensorName, writePeftAdapter } from '../../../src/formats/peft-adapter.js';
import { decoderArchitecture } from '../../../src/model/architectures/index.js';
import { readPeftAdapter } from '../../../src/model/generate/adapter.js';
import type { HostTensor } from '../../../src/model/tensor.js';
import { tempDir } from '../../helpers/stage-context.js';
import { MOE, PHI, tinyConfig } from '../llama/fixtures.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const f32 = (shape: number[]): HostTensor => ({ dtype: 'F32', shape, data: new Float32Array(shape[0]! * shape[1]!).fill(0.01) });

function adapter(tensors: Map<string, HostTensor>, r = 2): string {
  const dir = tempDir();
  dirs.push(dir);
  writePeftAdapter(dir, peftAdapterConfig({ r, lora_alpha: 4, lora_dropout: 0, target_modules: ['x'], base_model_name_or_path: 'base' }), tensors);
  return dir;
}

/** A and B of every module of every layer, with the architecture's shapes. */
function full(cfg: ReturnType<typeof tinyConfig>, r = 2): Map<string, HostTensor> {
  const arch = decoderArchitecture(cfg);
  const t = new Map<string, HostTensor>();
  for (let l = 0; l < cfg.numHiddenLayers; l++)
    for (const m of arch.linearModules(cfg)) {
      const [out, inDim] = arch.linearShape(cfg, m);
      t.set(peftLoraTensorName(arch.linearPath(l, m), 'A'), f32([r, inDim]));
      t.set(peftLoraTensorName(arch.linearPath(l, m), 'B'), f32([out, r]));
    }
  return t;
}

describe('readPeftAdapter on phi and qwen2_moe', () => {
  it('reads every module of a phi adapter (dense, fc1, fc2 …) and of an MoE adapter (router, each expert, the shared expert and its gate)', () => {
    const phi = tinyConfig(PHI);
    expect([...readPeftAdapter(adapter(full(phi)), phi).branches.keys()].filter((p) => p.startsWith('model.layers.0.'))).toEqual(
      ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.dense', 'mlp.fc1', 'mlp.fc2'].map((m) => `model.layers.0.${m}`),
    );
    const moe = tinyConfig(MOE);
    const branches = readPeftAdapter(adapter(full(moe)), moe).branches;
    expect(branches.size).toBe(2 * (4 + 1 + 4 * 3 + 3 + 1));
    expect(branches.get('model.layers.1.mlp.experts.3.down_proj')!.B.shape).toEqual([32, 2]);
    expect(branches.get('model.layers.0.mlp.gate')!.A.shape).toEqual([2, 32]);
  });

  it('names a wrong shape, a tensor of no module, and refuses transformers 5\'s fused experts by name', () => {
    const moe = tinyConfig(MOE);
    const bad = full(moe);
    bad.set(peftLoraTensorName('model.layers.0.mlp.experts.1.up_proj', 'B'), f32([25, 2]));
    expect(() => readPeftAdapter(adapter(bad), moe)).toThrow(/mlp\.experts\.1\.up_proj\.lora_B\.weight has shape \[25, 2\], expected \[24, 2\]/);
    const stray = new Map([...full(moe)]);
    stray.set('base_model.model.model.layers.0.mlp.experts.9.up_proj.lora_A.weight', f32([2, 32]));
    expect(() => readPeftAdapter(adapter(stray), moe)).toThrow(/tensors that match no layer of the base model: base_model\.model\.model\.layers\.0\.mlp\.experts\.9\.up_proj\.lora_A\.weight/);
    const fused = new Map([['base_model.model.model.layers.0.mlp.experts.lora_A.weight', f32([8, 32])], ['base_model.model.model.layers.0.mlp.experts.lora_B.weight', f32([48, 8])]]);
    expect(() => readPeftAdapter(adapter(fused), moe)).toThrow(/experts adapted as fused parameters, transformers 5 \+ PEFT target_parameters: not read; train with target_modules on the per-expert layout/);
  });
});
