import { DataError } from '../core/errors.js';

/**
 * A llama-family decoder's shape, parsed from a Hugging Face `config.json`. Covers `llama`,
 * `mistral` (same graph; sliding window ignored at our lengths) and `qwen2` (adds q/k/v biases).
 * Names are camelCase versions of the HF keys.
 */
export type Architecture = 'llama' | 'mistral' | 'qwen2';

export interface LlamaConfig {
  architecture: Architecture;
  vocabSize: number;
  hiddenSize: number; // C
  intermediateSize: number; // MLP width
  numHiddenLayers: number; // L
  numAttentionHeads: number; // H (query heads)
  numKeyValueHeads: number; // KVH (GQA groups); H % KVH === 0
  headDim: number; // D = hiddenSize / H unless config says otherwise
  rmsNormEps: number;
  ropeTheta: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry biases (qwen2). */
  attentionBias: boolean;
  bosTokenId?: number;
  eosTokenId: number[]; // HF allows a number or a list
  padTokenId?: number;
  torchDtype: string;
}

const MODEL_TYPES: Record<string, Architecture> = { llama: 'llama', mistral: 'mistral', qwen2: 'qwen2' };

/** Parses and checks a config.json object; `file` names it in errors. */
export function parseModelConfig(json: unknown, file: string): LlamaConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new DataError('bad-config', `${file}: config.json must be a JSON object`, { location: { file } });
  }
  const c = json as Record<string, unknown>;
  const modelType = c.model_type;
  if (typeof modelType !== 'string') throw missing(file, 'model_type');
  const architecture = MODEL_TYPES[modelType];
  if (!architecture) {
    throw new DataError(
      'unsupported-architecture',
      `${file}: model_type "${modelType}" is not supported (supported: ${Object.keys(MODEL_TYPES).join(', ')})`,
      { location: { file } },
    );
  }
  const int = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (v === undefined) throw missing(file, key);
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new DataError('bad-config', `${file}: "${key}" must be a positive integer, got ${JSON.stringify(v)}`, { location: { file } });
    }
    return v;
  };
  const num = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (v === undefined) throw missing(file, key);
    if (typeof v !== 'number' || !(v > 0)) {
      throw new DataError('bad-config', `${file}: "${key}" must be a positive number, got ${JSON.stringify(v)}`, { location: { file } });
    }
    return v;
  };
  const hiddenSize = int('hidden_size');
  const numAttentionHeads = int('num_attention_heads');
  const numKeyValueHeads = int('num_key_value_heads', numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw new DataError('bad-config', `${file}: num_attention_heads (${numAttentionHeads}) must be a multiple of num_key_value_heads (${numKeyValueHeads})`, { location: { file } });
  }
  const headDim = int('head_dim', hiddenSize % numAttentionHeads === 0 ? hiddenSize / numAttentionHeads : undefined);
  if (headDim % 2 !== 0) throw new DataError('bad-config', `${file}: head_dim ${headDim} must be even for RoPE`, { location: { file } });
  const eos = c.eos_token_id;
  const eosTokenId = eos === undefined || eos === null ? [] : Array.isArray(eos) ? eos.map(Number) : [Number(eos)];
  const optionalId = (key: string): number | undefined => (typeof c[key] === 'number' ? (c[key] as number) : undefined);
  return {
    architecture,
    vocabSize: int('vocab_size'),
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numHiddenLayers: int('num_hidden_layers'),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: num('rms_norm_eps', 1e-6),
    ropeTheta: ropeTheta(c, file),
    maxPositionEmbeddings: int('max_position_embeddings', 2048),
    tieWordEmbeddings: c.tie_word_embeddings === true,
    attentionBias: architecture === 'qwen2' ? true : c.attention_bias === true,
    bosTokenId: optionalId('bos_token_id'),
    eosTokenId,
    padTokenId: optionalId('pad_token_id'),
    // transformers ≥ 5 writes `dtype`; earlier versions (and this project) `torch_dtype`.
    torchDtype: typeof c.dtype === 'string' ? c.dtype : typeof c.torch_dtype === 'string' ? c.torch_dtype : 'float32',
  };
}

/**
 * RoPE base frequency. transformers ≥ 5 writes `rope_parameters: { rope_theta, rope_type }`
 * instead of a top-level `rope_theta` (+ `rope_scaling`); reading only the old key would silently
 * fall back to 10000 and give wrong logits for every model with another base (Qwen2, Mistral,
 * Llama 3). Scaled RoPE (llama3, linear, dynamic, yarn, …) is refused here, as `rope_scaling` is
 * by checkGraphSupport.
 */
function ropeTheta(c: Record<string, unknown>, file: string): number {
  const params = c.rope_parameters;
  if (params === undefined || params === null) {
    const v = c.rope_theta ?? 10000;
    if (typeof v !== 'number' || !(v > 0)) throw new DataError('bad-config', `${file}: "rope_theta" must be a positive number, got ${JSON.stringify(v)}`, { location: { file } });
    return v;
  }
  if (typeof params !== 'object' || Array.isArray(params)) throw new DataError('bad-config', `${file}: "rope_parameters" must be an object, got ${JSON.stringify(params)}`, { location: { file } });
  const p = params as Record<string, unknown>;
  const kind = p.rope_type ?? 'default';
  if (kind !== 'default') {
    throw new DataError('unsupported-config', `${file}: rope_parameters.rope_type ${JSON.stringify(kind)} is not supported (plain RoPE only)`, { location: { file } });
  }
  const theta = p.rope_theta;
  if (typeof theta !== 'number' || !(theta > 0)) throw new DataError('bad-config', `${file}: "rope_parameters.rope_theta" must be a positive number, got ${JSON.stringify(theta)}`, { location: { file } });
  return theta;
}

/** The config.json a Hugging Face loader expects for this shape. */
export function toHfConfigJson(cfg: LlamaConfig): Record<string, unknown> {
  const archClass = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM' }[cfg.architecture];
  return {
    architectures: [archClass],
    model_type: cfg.architecture,
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numHiddenLayers,
    num_attention_heads: cfg.numAttentionHeads,
    num_key_value_heads: cfg.numKeyValueHeads,
    head_dim: cfg.headDim,
    hidden_act: 'silu',
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    ...(cfg.architecture === 'qwen2' ? {} : { attention_bias: cfg.attentionBias }),
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenId.length === 1 ? cfg.eosTokenId[0] : cfg.eosTokenId,
    pad_token_id: cfg.padTokenId,
    torch_dtype: cfg.torchDtype,
    use_cache: true,
  };
}

function missing(file: string, key: string): DataError {
  return new DataError('bad-config', `${file}: missing required key "${key}"`, { location: { file } });
}
