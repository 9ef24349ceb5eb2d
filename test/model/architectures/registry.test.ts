import { describe, expect, it } from 'vitest';
import { decoderArchitecture, expectedWeights, linearWeightNames } from '../../../src/model/architectures/index.js';
import { peftTargetNames, resolveTargetModules } from '../../../src/train/lora.js';
import { MOE, PHI, tinyConfig } from '../llama/fixtures.js';

describe('decoder architecture registry', () => {
  it('has a file for every model_type the config parser accepts', () => {
    for (const type of ['llama', 'mistral', 'qwen2']) expect(decoderArchitecture(tinyConfig({ model_type: type })).modelType).toBe(type);
    expect(decoderArchitecture(tinyConfig(PHI)).modelType).toBe('phi');
    expect(decoderArchitecture(tinyConfig(MOE)).modelType).toBe('qwen2_moe');
  });

  it('every linear module is in exactly one fused group, and a group shares its input width', () => {
    for (const type of ['llama', 'qwen2']) {
      const cfg = tinyConfig({ model_type: type });
      const arch = decoderArchitecture(cfg);
      const grouped = Object.values(arch.linearGroups(cfg)).flat();
      expect([...grouped].sort()).toEqual([...arch.linearModules(cfg)].sort());
      for (const modules of Object.values(arch.linearGroups(cfg))) expect(new Set(modules.map((m) => arch.linearShape(cfg, m)[1])).size).toBe(1);
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

describe('phi and qwen2_moe in the registry', () => {
  it('phi: PEFT\'s module names, biases on every linear, the LayerNorms\' and the LM head\'s bias in the checkpoint layout', () => {
    const cfg = tinyConfig({ ...PHI, num_hidden_layers: 1 });
    const arch = decoderArchitecture(cfg);
    expect(arch.linearModules(cfg)).toEqual(['q_proj', 'k_proj', 'v_proj', 'dense', 'fc1', 'fc2']);
    expect(arch.rotaryDim(cfg)).toBe(4); // head_dim 8 × 0.5
    const names = [...expectedWeights(cfg).keys()];
    expect(names).toEqual([
      'model.embed_tokens.weight', 'model.layers.0.input_layernorm.weight', 'model.layers.0.input_layernorm.bias',
      ...['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.dense', 'mlp.fc1', 'mlp.fc2'].flatMap((m) => [`model.layers.0.${m}.weight`, `model.layers.0.${m}.bias`]),
      'model.final_layernorm.weight', 'model.final_layernorm.bias', 'lm_head.bias', 'lm_head.weight',
    ]);
    expect(resolveTargetModules(cfg, ['q_proj', 'k_proj', 'v_proj', 'dense', 'fc1', 'fc2'])).toEqual(['q_proj', 'k_proj', 'v_proj', 'dense', 'fc1', 'fc2']);
    expect(() => resolveTargetModules(cfg, ['q_proj', 'o_proj'])).toThrow(/"o_proj" is not a linear module of a phi layer \(known: q_proj, k_proj, v_proj, dense, fc1, fc2, or "all-linear"\)/);
  });

  it('qwen2_moe: every expert\'s projections, the router and the shared expert as modules under mlp.; the router and shared gate kept float in int4', () => {
    const cfg = tinyConfig({ ...MOE, num_hidden_layers: 1, num_experts: 3 });
    const arch = decoderArchitecture(cfg);
    expect(arch.linearModules(cfg)).toEqual([
      'q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate',
      'experts.0.gate_proj', 'experts.0.up_proj', 'experts.0.down_proj', 'experts.1.gate_proj', 'experts.1.up_proj', 'experts.1.down_proj', 'experts.2.gate_proj', 'experts.2.up_proj', 'experts.2.down_proj',
      'shared_expert.gate_proj', 'shared_expert.up_proj', 'shared_expert.down_proj', 'shared_expert_gate',
    ]);
    const w = expectedWeights(cfg);
    expect(w.get('model.layers.0.mlp.gate.weight')).toEqual([3, 32]);
    expect(w.get('model.layers.0.mlp.experts.2.down_proj.weight')).toEqual([32, 24]);
    expect(w.get('model.layers.0.mlp.shared_expert.up_proj.weight')).toEqual([40, 32]);
    expect(w.get('model.layers.0.mlp.shared_expert_gate.weight')).toEqual([1, 32]);
    expect(w.get('model.layers.0.self_attn.q_proj.bias')).toEqual([32]);
    expect(w.has('model.layers.0.self_attn.o_proj.bias')).toBe(false);
    const quantized = linearWeightNames(cfg);
    expect(quantized.has('model.layers.0.mlp.experts.1.up_proj.weight')).toBe(true);
    expect(quantized.has('model.layers.0.mlp.gate.weight')).toBe(false);
    expect(quantized.has('model.layers.0.mlp.shared_expert_gate.weight')).toBe(false);
    for (const modules of Object.values(arch.linearGroups(cfg))) expect(new Set(modules.map((m) => arch.linearShape(cfg, m)[1])).size).toBe(1);
    expect(Object.values(arch.linearGroups(cfg)).flat().sort()).toEqual([...arch.linearModules(cfg)].sort());
  });

  it('resolves PEFT names on an MoE layer as PEFT matches paths: gate_proj is every expert\'s and the shared expert\'s, shared_expert.gate_proj only the latter, gate only the router', () => {
    const cfg = tinyConfig({ ...MOE, num_experts: 2 });
    expect(resolveTargetModules(cfg, ['gate_proj'])).toEqual(['experts.0.gate_proj', 'experts.1.gate_proj', 'shared_expert.gate_proj']);
    expect(resolveTargetModules(cfg, ['shared_expert.gate_proj', 'gate'])).toEqual(['gate', 'shared_expert.gate_proj']);
    expect(resolveTargetModules(cfg, ['mlp.experts.1.down_proj'])).toEqual(['experts.1.down_proj']);
    expect(resolveTargetModules(cfg, 'all-linear')).toHaveLength(4 + 1 + 6 + 4);
    expect(() => resolveTargetModules(cfg, 'everything')).toThrow(/"everything" must be a list of module names or "all-linear"/);
    expect(() => resolveTargetModules(cfg, ['w1'])).toThrow(/known: q_proj, k_proj, v_proj, o_proj, gate, experts\.\*\.gate_proj, experts\.\*\.up_proj, experts\.\*\.down_proj, shared_expert\.gate_proj/);
  });

  it('names an adapter\'s target_modules by the shortest PEFT names that select exactly its modules', () => {
    const llama = tinyConfig();
    expect(peftTargetNames(llama, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'])).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    const moe = tinyConfig({ ...MOE, num_experts: 2 });
    expect(peftTargetNames(moe, resolveTargetModules(moe, 'all-linear'))).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate', 'gate_proj', 'up_proj', 'down_proj', 'shared_expert_gate']);
    expect(peftTargetNames(moe, resolveTargetModules(moe, ['q_proj', 'shared_expert.gate_proj', 'shared_expert.down_proj']))).toEqual(['q_proj', 'shared_expert.gate_proj', 'shared_expert.down_proj']);
    // Every name selects exactly the modules it was written for.
    const some = resolveTargetModules(moe, ['experts.1.up_proj', 'o_proj']);
    expect(resolveTargetModules(moe, peftTargetNames(moe, some))).toEqual(some);
  });
});
