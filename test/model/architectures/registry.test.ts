import { describe, expect, it } from 'vitest';
import { decoderArchitecture, expectedWeights, linearWeightNames } from '../../../src/model/architectures/index.js';
import { resolveTargetModules } from '../../../src/train/lora.js';
import { tinyConfig } from '../llama/fixtures.js';

describe('decoder architecture registry', () => {
  it('has a file for every model_type the config parser accepts', () => {
    for (const type of ['llama', 'mistral', 'qwen2']) expect(decoderArchitecture(tinyConfig({ model_type: type })).modelType).toBe(type);
  });

  it('every linear module is in exactly one fused group, and a group shares its input width', () => {
    for (const type of ['llama', 'qwen2']) {
      const cfg = tinyConfig({ model_type: type });
      const arch = decoderArchitecture(cfg);
      const grouped = Object.values(arch.linearGroups).flat();
      expect([...grouped].sort()).toEqual([...arch.linearModules].sort());
      for (const modules of Object.values(arch.linearGroups)) expect(new Set(modules.map((m) => arch.linearShape(cfg, m)[1])).size).toBe(1);
    }
  });

  it('derives the checkpoint layout in HF order: embedding, per layer norms then linears (bias after weight), final norm, untied LM head', () => {
    const cfg = tinyConfig({ model_type: 'qwen2', num_hidden_layers: 1 });
    const C = 32, KV = 16, F = 48, V = 50;
    expect([...expectedWeights(cfg)]).toEqual([
      ['model.embed_tokens.weight', [V, C]],
      ['model.layers.0.input_layernorm.weight', [C]],
      ['model.layers.0.post_attention_layernorm.weight', [C]],
      ['model.layers.0.self_attn.q_proj.weight', [C, C]], ['model.layers.0.self_attn.q_proj.bias', [C]],
      ['model.layers.0.self_attn.k_proj.weight', [KV, C]], ['model.layers.0.self_attn.k_proj.bias', [KV]],
      ['model.layers.0.self_attn.v_proj.weight', [KV, C]], ['model.layers.0.self_attn.v_proj.bias', [KV]],
      ['model.layers.0.self_attn.o_proj.weight', [C, C]],
      ['model.layers.0.mlp.gate_proj.weight', [F, C]],
      ['model.layers.0.mlp.up_proj.weight', [F, C]],
      ['model.layers.0.mlp.down_proj.weight', [C, F]],
      ['model.norm.weight', [C]],
      ['lm_head.weight', [V, C]],
    ]);
    const tied = expectedWeights(tinyConfig({ tie_word_embeddings: true, num_hidden_layers: 1 }));
    expect(tied.has('lm_head.weight')).toBe(false);
    expect(tied.has('model.layers.0.self_attn.q_proj.bias')).toBe(false);
    expect([...linearWeightNames(cfg)].filter((n) => n.endsWith('.weight')).length).toBe(7);
  });

  it('resolves target_modules as PEFT does, in layer order, and names the unknown ones', () => {
    const cfg = tinyConfig();
    expect(resolveTargetModules(cfg, ['down_proj', 'q_proj'])).toEqual(['q_proj', 'down_proj']);
    expect(() => resolveTargetModules(cfg, ['q_proj', 'dense'])).toThrow(/target_modules: "dense" is not a linear module of a llama layer \(known: q_proj, k_proj/);
    expect(() => resolveTargetModules(cfg, [])).toThrow(/at least one module/);
  });
});
