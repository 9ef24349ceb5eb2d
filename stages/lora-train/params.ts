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
