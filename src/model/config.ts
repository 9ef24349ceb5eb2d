import { DataError } from '../core/errors.js';

/**
 * A decoder's shape, parsed from a Hugging Face `config.json`. Covers `llama`, `mistral` (same
 * graph; sliding window ignored at our lengths), `qwen2` (adds q/k/v biases), `phi` (LayerNorm,
 * partial rotary, parallel attention and MLP) and `qwen2_moe` (qwen2's attention, a routed MoE
 * MLP). Names are camelCase versions of the HF keys; the architecture's own keys sit in
 * `phi` / `moe`.
 */
export type Architecture = 'llama' | 'mistral' | 'qwen2' | 'phi' | 'qwen2_moe';

/** phi's own keys. */
export interface PhiSettings {
  /** LayerNorm epsilon (`layer_norm_eps`). */
  layerNormEps: number;
  /** Share of each head's D features that RoPE rotates (`partial_rotary_factor`; phi-2: 0.4). */
  partialRotaryFactor: number;
}

/**
 * qwen2_moe's own keys. Every layer is sparse (`decoder_sparse_step` 1, no `mlp_only_layers`:
 * Qwen1.5-MoE's layout; other layouts are refused by the parser).
 */
export interface MoeSettings {
  /** E routed experts per layer (`num_experts`). */
  numExperts: number;
  /** k experts each token is routed to (`num_experts_per_tok`). */
  numExpertsPerTok: number;
  /** A routed expert's MLP width (`moe_intermediate_size`). */
  moeIntermediateSize: number;
  /** The shared expert's MLP width (`shared_expert_intermediate_size`). */
  sharedExpertIntermediateSize: number;
  /** Renormalise the k routing weights to sum to 1 (`norm_topk_prob`). */
  normTopkProb: boolean;
  /** Weight of the load-balancing loss in training (`router_aux_loss_coef`). */
  routerAuxLossCoef: number;
  /** transformers adds the load-balancing loss only when this is set (`output_router_logits`). */
  outputRouterLogits: boolean;
}

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
  /** phi only. */
  phi?: PhiSettings;
  /** qwen2_moe only. */
  moe?: MoeSettings;
}

/** The decoder config by its architecture-neutral name (LlamaConfig is the historical one). */
export type DecoderConfig = LlamaConfig;

const MODEL_TYPES: Record<string, Architecture> = { llama: 'llama', mistral: 'mistral', qwen2: 'qwen2', phi: 'phi', qwen2_moe: 'qwen2_moe' };

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
  const phi = architecture === 'phi' ? phiSettings(c, file, headDim, num) : undefined;
  const moe = architecture === 'qwen2_moe' ? moeSettings(c, file, int) : undefined;
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
    attentionBias: attentionBias(architecture, c),
    bosTokenId: optionalId('bos_token_id'),
    eosTokenId,
    padTokenId: optionalId('pad_token_id'),
    // transformers ≥ 5 writes `dtype`; earlier versions (and this project) `torch_dtype`.
    torchDtype: typeof c.dtype === 'string' ? c.dtype : typeof c.torch_dtype === 'string' ? c.torch_dtype : 'float32',
    ...(phi ? { phi } : {}),
    ...(moe ? { moe } : {}),
  };
}

/** q/k/v biases: qwen2 always; qwen2_moe unless `qkv_bias: false` (transformers 5's key); phi always (its four projections carry them); llama/mistral by `attention_bias`. */
function attentionBias(architecture: Architecture, c: Record<string, unknown>): boolean {
  if (architecture === 'qwen2' || architecture === 'phi') return true;
  if (architecture === 'qwen2_moe') return c.qkv_bias !== false;
  return c.attention_bias === true;
}

type NumberReader = (key: string, fallback?: number) => number;

/**
 * phi: `layer_norm_eps`, and `partial_rotary_factor` (transformers 5 writes it inside
 * `rope_parameters`, 4 at the top level; PhiConfig's default 0.5). The rotated width
 * int(D · factor) must be even; q/k LayerNorms (`qk_layernorm`, not in Phi-2) are refused.
 */
function phiSettings(c: Record<string, unknown>, file: string, headDim: number, num: NumberReader): PhiSettings {
  if (c.qk_layernorm === true) throw new DataError('unsupported-config', `${file}: qk_layernorm is not supported (phi without q/k LayerNorms only, as Phi-2)`, { location: { file } });
  const rope = c.rope_parameters as Record<string, unknown> | undefined;
  const factor = (typeof rope === 'object' && rope !== null ? rope.partial_rotary_factor : undefined) ?? c.partial_rotary_factor ?? 0.5;
  if (typeof factor !== 'number' || !(factor > 0 && factor <= 1)) throw new DataError('bad-config', `${file}: "partial_rotary_factor" must be a number in (0, 1], got ${JSON.stringify(factor)}`, { location: { file } });
  const rotary = Math.floor(headDim * factor);
  if (rotary < 2 || rotary % 2 !== 0) throw new DataError('bad-config', `${file}: partial_rotary_factor ${factor} rotates ${rotary} of head_dim ${headDim} features; RoPE needs an even number ≥ 2`, { location: { file } });
  return { layerNormEps: num('layer_norm_eps', 1e-5), partialRotaryFactor: factor };
}

/**
 * qwen2_moe's keys (Qwen2MoeConfig's defaults where absent). transformers makes layer i sparse when
 * i ∉ mlp_only_layers and (i + 1) % decoder_sparse_step == 0; this project builds the all-sparse
 * layout (Qwen1.5-MoE-A2.7B's) and refuses the others rather than build them wrong.
 */
function moeSettings(c: Record<string, unknown>, file: string, int: NumberReader): MoeSettings {
  const fail = (message: string): never => {
    throw new DataError('unsupported-config', `${file}: ${message}`, { location: { file } });
  };
  const step = c.decoder_sparse_step ?? 1;
  if (step !== 1) fail(`decoder_sparse_step ${JSON.stringify(step)} is not supported (every layer sparse, decoder_sparse_step 1, as Qwen1.5-MoE)`);
  const dense = c.mlp_only_layers;
  if (dense !== undefined && dense !== null && !(Array.isArray(dense) && dense.length === 0)) fail(`mlp_only_layers ${JSON.stringify(dense)} is not supported (every layer sparse, as Qwen1.5-MoE)`);
  if (c.use_sliding_window === true) fail('use_sliding_window is not supported (full attention only)');
  const numExperts = int('num_experts', 60);
  const numExpertsPerTok = int('num_experts_per_tok', 4);
  if (numExpertsPerTok > numExperts) throw new DataError('bad-config', `${file}: num_experts_per_tok (${numExpertsPerTok}) exceeds num_experts (${numExperts})`, { location: { file } });
  const coef = c.router_aux_loss_coef ?? 0.001;
  if (typeof coef !== 'number' || !(coef >= 0)) throw new DataError('bad-config', `${file}: "router_aux_loss_coef" must be a number ≥ 0, got ${JSON.stringify(coef)}`, { location: { file } });
  return {
    numExperts,
    numExpertsPerTok,
    moeIntermediateSize: int('moe_intermediate_size', 1408),
    sharedExpertIntermediateSize: int('shared_expert_intermediate_size', 5632),
    normTopkProb: c.norm_topk_prob === true,
    routerAuxLossCoef: coef,
    outputRouterLogits: c.output_router_logits === true,
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
  if (cfg.architecture === 'phi') return phiConfigJson(cfg);
  if (cfg.architecture === 'qwen2_moe') return moeConfigJson(cfg);
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
    ...tokenIds(cfg),
    torch_dtype: cfg.torchDtype,
    use_cache: true,
  };
}

function tokenIds(cfg: LlamaConfig): Record<string, unknown> {
  return { bos_token_id: cfg.bosTokenId, eos_token_id: cfg.eosTokenId.length === 1 ? cfg.eosTokenId[0] : cfg.eosTokenId, pad_token_id: cfg.padTokenId };
}

/** Phi-2's config.json keys (dropouts 0: this project trains without residual dropout, docs/training.md). */
function phiConfigJson(cfg: LlamaConfig): Record<string, unknown> {
  const phi = cfg.phi!;
  return {
    architectures: ['PhiForCausalLM'],
    model_type: 'phi',
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numHiddenLayers,
    num_attention_heads: cfg.numAttentionHeads,
    num_key_value_heads: cfg.numKeyValueHeads,
    ...(cfg.headDim * cfg.numAttentionHeads === cfg.hiddenSize ? {} : { head_dim: cfg.headDim }),
    hidden_act: 'gelu_new',
    layer_norm_eps: phi.layerNormEps,
    partial_rotary_factor: phi.partialRotaryFactor,
    rope_theta: cfg.ropeTheta,
    qk_layernorm: false,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attention_dropout: 0,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    ...tokenIds(cfg),
    torch_dtype: cfg.torchDtype,
    use_cache: true,
  };
}

/** Qwen1.5-MoE's config.json keys. */
function moeConfigJson(cfg: LlamaConfig): Record<string, unknown> {
  const moe = cfg.moe!;
  return {
    architectures: ['Qwen2MoeForCausalLM'],
    model_type: 'qwen2_moe',
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numHiddenLayers,
    num_attention_heads: cfg.numAttentionHeads,
    num_key_value_heads: cfg.numKeyValueHeads,
    ...(cfg.headDim * cfg.numAttentionHeads === cfg.hiddenSize ? {} : { head_dim: cfg.headDim }),
    hidden_act: 'silu',
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    num_experts: moe.numExperts,
    num_experts_per_tok: moe.numExpertsPerTok,
    moe_intermediate_size: moe.moeIntermediateSize,
    shared_expert_intermediate_size: moe.sharedExpertIntermediateSize,
    norm_topk_prob: moe.normTopkProb,
    decoder_sparse_step: 1,
    mlp_only_layers: [],
    router_aux_loss_coef: moe.routerAuxLossCoef,
    output_router_logits: moe.outputRouterLogits,
    qkv_bias: cfg.attentionBias,
    use_sliding_window: false,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    ...tokenIds(cfg),
    torch_dtype: cfg.torchDtype,
    use_cache: true,
  };
}

function missing(file: string, key: string): DataError {
  return new DataError('bad-config', `${file}: missing required key "${key}"`, { location: { file } });
}
