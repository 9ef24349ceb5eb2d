/**
 * Tiny random stand-ins of the paper's seven models, for running pipelines/models.yaml offline:
 * each keeps its model's architecture and what distinguishes its config.json (GQA ratio, tied
 * or untied embeddings, RoPE base, norm epsilon, q/k/v biases, phi's partial rotary, the MoE's
 * experts and shared expert), at sizes of a few hundred thousand parameters, with the project's
 * byte-level tokenizer (phi-2's, like the real one, without a chat template). Sizes are multiples
 * of 64 so the pipeline's int4 quantization (block 64) applies and QLoRA can train.
 */
import { readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseModelConfig } from '../../src/model/config.js';
import { initLlamaWeights } from '../../src/model/init/index.js';
import { listFiles, writeModelDir } from '../../src/model/model-dir.js';
import { byteLevelTokenizerFiles, BYTE_LEVEL_BASE_VOCAB } from '../../src/model/tokenizer/index.js';
import type { FakeRepo } from '../model/hub/fake-hub.js';

const COMMON = { hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, max_position_embeddings: 2048, bos_token_id: 0, eos_token_id: 2, pad_token_id: 0 };

/** Hub id → config.json of its stand-in (the real model's keys, tiny sizes). */
export const STAND_INS: Record<string, Record<string, unknown>> = {
  'TinyLlama/TinyLlama-1.1B-Chat-v1.0': { model_type: 'llama', intermediate_size: 256, num_key_value_heads: 1, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false },
  'microsoft/phi-2': { model_type: 'phi', intermediate_size: 512, num_key_value_heads: null, partial_rotary_factor: 0.4, layer_norm_eps: 1e-5, rope_theta: 10000, hidden_act: 'gelu_new', tie_word_embeddings: false },
  'Qwen/Qwen2-1.5B-Instruct': { model_type: 'qwen2', intermediate_size: 256, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true },
  'deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B': { model_type: 'qwen2', intermediate_size: 256, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false },
  'Qwen/Qwen1.5-MoE-A2.7B': {
    model_type: 'qwen2_moe', intermediate_size: 256, num_key_value_heads: 4, rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: false,
    num_experts: 4, num_experts_per_tok: 2, moe_intermediate_size: 64, shared_expert_intermediate_size: 256, norm_topk_prob: false, decoder_sparse_step: 1, router_aux_loss_coef: 0.001,
  },
  'mistralai/Mistral-7B-Instruct-v0.2': { model_type: 'mistral', intermediate_size: 256, num_key_value_heads: 1, rms_norm_eps: 1e-5, rope_theta: 1000000, tie_word_embeddings: false },
  'meta-llama/Llama-2-7b-chat-hf': { model_type: 'llama', intermediate_size: 256, num_key_value_heads: 4, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false },
};

/**
 * A stand-in's files as the hub serves them (weights in LFS), made in a temp folder that is
 * removed again. `merges`: the byte-level BPE merges of its tokenizer (learned on the pipeline's
 * own texts, so records fit max_seq_length as they do with the real models' tokenizers).
 */
export function standInRepo(id: string, sha: string, seed: number, merges: Array<[string, string]>): FakeRepo {
  const cfg = parseModelConfig({ ...COMMON, vocab_size: BYTE_LEVEL_BASE_VOCAB + merges.length, ...STAND_INS[id] }, `${id}/config.json`);
  const dir = mkdtempSync(join(tmpdir(), 'pp-stand-in-'));
  try {
    const tokenizer = byteLevelTokenizerFiles({ merges });
    if (cfg.architecture === 'phi') {
      const config = JSON.parse(tokenizer['tokenizer_config.json']!) as Record<string, unknown>;
      delete config.chat_template;
      tokenizer['tokenizer_config.json'] = `${JSON.stringify(config, null, 2)}\n`;
    }
    writeModelDir(dir, cfg, initLlamaWeights(cfg, seed), tokenizer);
    const files = Object.fromEntries(listFiles(dir).map((f) => [f, readFileSync(join(dir, f))]));
    return { sha, files, lfs: Object.keys(files).filter((f) => f.endsWith('.safetensors')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
