import type { StageContext, StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';

export interface InitModelParams {
  preset: 'tiny' | 'tinyllama-1.1b' | 'custom';
  seed: number | null;
  torch_dtype: 'float32' | 'bfloat16' | 'float16';
  initializer_range: number;
  export_onnx: boolean;
  model_type?: 'llama' | 'mistral' | 'qwen2';
  vocab_size?: number;
  hidden_size?: number;
  intermediate_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  num_key_value_heads?: number;
  head_dim?: number;
  rope_theta?: number;
  rms_norm_eps?: number;
  max_position_embeddings?: number;
  tie_word_embeddings?: boolean;
  tokenizer: { kind: 'byte-level'; train_on: 'none' | 'chatml' | 'responses'; vocab_size: number; model_max_length: number };
}

/**
 * `init-model`: a Hugging Face model dir with seeded random weights for any llama/mistral/qwen2
 * shape, a byte-level BPE tokenizer (optionally trained on the pipeline's own text) with a ChatML
 * chat template, and (by default) the float32 ONNX graph beside it.
 */
const initModel: StageDefinition<InitModelParams> = {
  type: 'init-model',
  version: 1,
  description: 'Create a model dir with seeded random weights (presets tiny, tinyllama-1.1b, or custom sizes) and a byte-level ChatML tokenizer',
  produces: 'model',
  consumes: { corpus: { kinds: ['chatml', 'responses'], optional: true } },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  async run(ctx: StageContext<InitModelParams>) {
    const { runInitModel } = await import('./run.js');
    await runInitModel(ctx);
  },
};

export default initModel;
