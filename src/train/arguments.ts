/**
 * The training arguments lora-train takes, by their Hugging Face names (transformers'
 * TrainingArguments), from the pipeline file to the optimizer: nothing renames them on the way.
 */
export type SchedulerType = 'cosine' | 'linear' | 'constant' | 'constant_with_warmup';

export interface TrainingArguments {
  learning_rate: number;
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  lr_scheduler_type: SchedulerType;
  warmup_ratio: number;
  num_train_epochs: number;
  per_device_train_batch_size: number;
  gradient_accumulation_steps: number;
  /** Global-norm clipping; 0 disables. */
  max_grad_norm: number;
  /** > 0 overrides num_train_epochs. */
  max_steps: number;
  /** Evaluate every N optimizer steps; 0 = only at the end. */
  eval_steps: number;
  /** Checkpoint every N optimizer steps; 0 = never. */
  save_steps: number;
  logging_steps: number;
  seed: number;
}

/** AdamW's settings: the arguments the update reads. */
export type AdamWArguments = Pick<TrainingArguments, 'adam_beta1' | 'adam_beta2' | 'adam_epsilon' | 'weight_decay'>;
