/** Tiny seeded decoder models made in the test (no files, no hub). */
import { Prng } from '../../../src/core/prng.js';
import { parseModelConfig, type LlamaConfig } from '../../../src/model/config.js';
import { initLlamaWeights } from '../../../src/model/init/index.js';
import type { HostTensor } from '../../../src/model/tensor.js';

/** tinyConfig overrides for a tiny phi (partial rotary 0.5, MHA) and a tiny qwen2_moe (4 experts, top-2). */
export const PHI = { model_type: 'phi', partial_rotary_factor: 0.5, layer_norm_eps: 1e-5, num_key_value_heads: 4 };
export const MOE = { model_type: 'qwen2_moe', num_experts: 4, num_experts_per_tok: 2, moe_intermediate_size: 24, shared_expert_intermediate_size: 40, norm_topk_prob: false };

export interface TinyModel {
  cfg: LlamaConfig;
  weights: Map<string, HostTensor>;
}

export function tinyConfig(overrides: Record<string, unknown> = {}): LlamaConfig {
  return parseModelConfig(
    {
      model_type: 'llama',
      vocab_size: 50,
      hidden_size: 32,
      intermediate_size: 48,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      max_position_embeddings: 64,
      tie_word_embeddings: false,
      eos_token_id: 2,
      bos_token_id: 1,
      ...overrides,
    },
    'test-config.json',
  );
}

/**
 * initLlamaWeights with a wide std (0.2, so logits vary enough to expose errors), then norm
 * gains and biases perturbed (HF init sets them to 1 and 0, which would hide a missing term).
 */
export function tinyModel(overrides: Record<string, unknown> = {}, seed = 11): TinyModel {
  const cfg = tinyConfig(overrides);
  const weights = initLlamaWeights(cfg, seed, { initializerRange: 0.2 });
  const prng = new Prng(seed + 1);
  for (const [name, t] of weights) {
    const data = t.data as Float32Array;
    if (name.endsWith('norm.weight')) for (let i = 0; i < data.length; i++) data[i] = 1 + 0.1 * prng.normal();
    if (name.endsWith('.bias')) for (let i = 0; i < data.length; i++) data[i] = 0.2 * prng.normal();
  }
  return { cfg, weights };
}
