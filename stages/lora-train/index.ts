import { isAbsolute, resolve } from 'node:path';
import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';

/** `with:` of lora-train (HF / PEFT names). */
export interface LoraTrainParams {
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[];
  learning_rate: number;
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  lr_scheduler_type: 'cosine' | 'linear' | 'constant' | 'constant_with_warmup';
  warmup_ratio: number;
  num_train_epochs: number;
  per_device_train_batch_size: number;
  gradient_accumulation_steps: number;
  max_grad_norm: number;
  max_steps: number;
  max_seq_length: number;
  eval_steps: number;
  save_steps: number;
  logging_steps: number;
  seed: number | null;
  loss_on: 'assistant' | 'all';
  init_adapter: string | null;
  trainable: 'lora' | 'full';
  eval_metrics_samples: number;
  eval_max_new_tokens: number;
  max_memory_gb: number | null;
}

const stage: StageDefinition<LoraTrainParams> = {
  type: 'lora-train',
  version: 2, // 2: per-layer training engine (float sums in another order than the single graph of version 1)
  description: 'LoRA / QLoRA fine-tuning of a llama-family model on chatml data, on ONNX Runtime; writes a PEFT adapter (trainable: full trains every weight and writes a model)',
  produces: 'adapter',
  producesFor: (params) => (params.trainable === 'full' ? 'model' : 'adapter'),
  consumes: { model: { kinds: ['model'], transitive: true }, chatml: { kinds: ['chatml'] } },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  exclusive: true,
  fileDeps(params, pipelineDir) {
    if (!params.init_adapter) return [];
    return [isAbsolute(params.init_adapter) ? params.init_adapter : resolve(pipelineDir, params.init_adapter)];
  },
  async run(ctx) {
    const { runLoraTrain } = await import('./run.js');
    await runLoraTrain(ctx);
  },
};

export default stage;
