import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import { parseModelConfig, toHfConfigJson } from '../../src/model/config.js';
import { presetConfig } from '../../src/model/presets.js';

/** config.json as transformers 5 writes it (save_pretrained of LlamaConfig / Qwen2Config), sizes shrunk. */
function transformers5Config(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0, bos_token_id: null, dtype: 'bfloat16', eos_token_id: 2,
    head_dim: 16, hidden_act: 'silu', hidden_size: 64, initializer_range: 0.02, intermediate_size: 96, max_position_embeddings: 256,
    mlp_bias: false, model_type: 'llama', num_attention_heads: 4, num_hidden_layers: 2, num_key_value_heads: 2, pad_token_id: 0,
    pretraining_tp: 1, rms_norm_eps: 1e-5, rope_parameters: { rope_theta: 500000.0, rope_type: 'default' }, tie_word_embeddings: false,
    transformers_version: '5.18.0', use_cache: true, vocab_size: 384, ...extra,
  };
}

function errorOf(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    return err as DataError;
  }
  throw new Error('expected a DataError');
}

describe('parseModelConfig on configs written by transformers 5', () => {
  it('reads rope_theta from rope_parameters and the dtype from "dtype"', () => {
    const cfg = parseModelConfig(transformers5Config(), 'm/config.json');
    expect(cfg.ropeTheta).toBe(500000);
    expect(cfg.torchDtype).toBe('bfloat16');
    expect(cfg.bosTokenId).toBeUndefined();
    expect(cfg.padTokenId).toBe(0);
  });

  it('still reads the transformers 4 keys (rope_theta, torch_dtype)', () => {
    const v4 = transformers5Config({ rope_theta: 1e6, torch_dtype: 'float32' });
    delete v4.rope_parameters;
    delete v4.dtype;
    const cfg = parseModelConfig(v4, 'm/config.json');
    expect(cfg.ropeTheta).toBe(1e6);
    expect(cfg.torchDtype).toBe('float32');
    delete v4.rope_theta;
    expect(parseModelConfig(v4, 'm/config.json').ropeTheta).toBe(10000);
  });

  it('refuses scaled RoPE and a malformed rope_parameters, naming the file', () => {
    const llama3 = errorOf(() => parseModelConfig(transformers5Config({ rope_parameters: { rope_theta: 5e5, rope_type: 'llama3', factor: 8 } }), 'm/config.json'));
    expect(llama3.code).toBe('unsupported-config');
    expect(llama3.message).toBe('m/config.json: rope_parameters.rope_type "llama3" is not supported (plain RoPE only)');
    expect(errorOf(() => parseModelConfig(transformers5Config({ rope_parameters: { rope_type: 'default' } }), 'm/config.json')).message).toBe(
      'm/config.json: "rope_parameters.rope_theta" must be a positive number, got undefined',
    );
    expect(errorOf(() => parseModelConfig(transformers5Config({ rope_parameters: [1] }), 'm/config.json')).message).toBe('m/config.json: "rope_parameters" must be an object, got [1]');
    const v4 = transformers5Config({ rope_theta: 'big' });
    delete v4.rope_parameters;
    expect(errorOf(() => parseModelConfig(v4, 'm/config.json')).message).toBe('m/config.json: "rope_theta" must be a positive number, got "big"');
  });
});

describe('parseModelConfig: phi and qwen2_moe', () => {
  /** microsoft/phi-2's config.json (transformers 4 keys), and transformers 5's save of a PhiConfig. */
  const phi2 = {
    architectures: ['PhiForCausalLM'], attention_dropout: 0.0, bos_token_id: 50256, embd_pdrop: 0.0, eos_token_id: 50256, hidden_act: 'gelu_new', hidden_size: 2560,
    initializer_range: 0.02, intermediate_size: 10240, layer_norm_eps: 1e-05, max_position_embeddings: 2048, model_type: 'phi', num_attention_heads: 32,
    num_hidden_layers: 32, num_key_value_heads: null, partial_rotary_factor: 0.4, qk_layernorm: false, resid_pdrop: 0.1, rope_scaling: null, rope_theta: 10000.0,
    tie_word_embeddings: false, torch_dtype: 'float16', transformers_version: '4.37.0', use_cache: true, vocab_size: 51200,
  };
  /** Qwen/Qwen1.5-MoE-A2.7B's config.json. */
  const qwenMoe = {
    architectures: ['Qwen2MoeForCausalLM'], attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151643, hidden_act: 'silu', hidden_size: 2048, initializer_range: 0.02,
    intermediate_size: 5632, max_position_embeddings: 8192, max_window_layers: 21, model_type: 'qwen2_moe', num_attention_heads: 16, num_hidden_layers: 24,
    num_key_value_heads: 16, rms_norm_eps: 1e-06, rope_theta: 1000000.0, sliding_window: 32768, tie_word_embeddings: false, torch_dtype: 'bfloat16',
    transformers_version: '4.39.0.dev0', use_cache: true, use_sliding_window: false, vocab_size: 151936, decoder_sparse_step: 1, moe_intermediate_size: 1408,
    shared_expert_intermediate_size: 5632, num_experts_per_tok: 4, num_experts: 60, norm_topk_prob: false, output_router_logits: false, router_aux_loss_coef: 0.001,
  };

  it('reads Phi-2: no GQA (num_key_value_heads null), partial rotary 0.4 (32 of 80 features), layer_norm_eps, biases', () => {
    const cfg = parseModelConfig(phi2, 'phi-2/config.json');
    expect(cfg).toMatchObject({ architecture: 'phi', numKeyValueHeads: 32, headDim: 80, attentionBias: true, phi: { layerNormEps: 1e-5, partialRotaryFactor: 0.4 } });
    expect(cfg).toEqual({ ...presetConfig('phi-2'), bosTokenId: 50256, eosTokenId: [50256], padTokenId: undefined, torchDtype: 'float16' });
    // transformers 5 writes the factor inside rope_parameters
    const v5 = { ...phi2, rope_parameters: { rope_theta: 10000, rope_type: 'default', partial_rotary_factor: 0.5 } } as Record<string, unknown>;
    delete v5.partial_rotary_factor;
    delete v5.rope_theta;
    expect(parseModelConfig(v5, 'c.json').phi!.partialRotaryFactor).toBe(0.5);
  });

  it('reads Qwen1.5-MoE-A2.7B and round-trips both presets through toHfConfigJson', () => {
    const cfg = parseModelConfig(qwenMoe, 'moe/config.json');
    expect(cfg.moe).toEqual({ numExperts: 60, numExpertsPerTok: 4, moeIntermediateSize: 1408, sharedExpertIntermediateSize: 5632, normTopkProb: false, routerAuxLossCoef: 0.001, outputRouterLogits: false });
    expect(cfg.attentionBias).toBe(true);
    expect(parseModelConfig({ ...qwenMoe, qkv_bias: false }, 'c.json').attentionBias).toBe(false);
    for (const preset of ['phi-2', 'qwen1.5-moe-a2.7b'] as const) {
      const p = presetConfig(preset);
      expect(parseModelConfig(toHfConfigJson(p), 'config.json')).toEqual(p);
    }
  });

  it('refuses what the graphs do not build, naming the file and the key', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...phi2, qk_layernorm: true }, 'm/config.json: qk_layernorm is not supported (phi without q/k LayerNorms only, as Phi-2)'],
      [{ ...phi2, partial_rotary_factor: 1.5 }, 'm/config.json: "partial_rotary_factor" must be a number in (0, 1], got 1.5'],
      [{ ...phi2, partial_rotary_factor: 0.01 }, 'm/config.json: partial_rotary_factor 0.01 rotates 0 of head_dim 80 features; RoPE needs an even number ≥ 2'],
      [{ ...qwenMoe, decoder_sparse_step: 2 }, 'm/config.json: decoder_sparse_step 2 is not supported (every layer sparse, decoder_sparse_step 1, as Qwen1.5-MoE)'],
      [{ ...qwenMoe, mlp_only_layers: [0, 3] }, 'm/config.json: mlp_only_layers [0,3] is not supported (every layer sparse, as Qwen1.5-MoE)'],
      [{ ...qwenMoe, use_sliding_window: true }, 'm/config.json: use_sliding_window is not supported (full attention only)'],
      [{ ...qwenMoe, num_experts_per_tok: 61 }, 'm/config.json: num_experts_per_tok (61) exceeds num_experts (60)'],
      [{ ...qwenMoe, num_experts: 0 }, 'm/config.json: "num_experts" must be a positive integer, got 0'],
      [{ ...qwenMoe, router_aux_loss_coef: -1 }, 'm/config.json: "router_aux_loss_coef" must be a number ≥ 0, got -1'],
    ];
    for (const [json, message] of cases) expect(errorOf(() => parseModelConfig(json, 'm/config.json')).message).toBe(message);
  });
});
