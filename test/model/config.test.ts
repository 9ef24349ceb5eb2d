import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import { parseModelConfig } from '../../src/model/config.js';

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
