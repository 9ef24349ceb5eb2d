/** The `with:` params of the init-model stage, validated against params.schema.json (defaults filled). */
export interface InitModelParams {
  preset: 'tiny' | 'small-25m' | 'tinyllama-1.1b' | 'phi-2' | 'qwen1.5-moe-a2.7b' | 'custom';
  seed: number | null;
  torch_dtype: 'float32' | 'bfloat16' | 'float16';
  initializer_range: number;
  export_onnx: boolean;
  model_type?: 'llama' | 'mistral' | 'qwen2' | 'phi' | 'qwen2_moe';
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
  partial_rotary_factor?: number;
  layer_norm_eps?: number;
  num_experts?: number;
  num_experts_per_tok?: number;
  moe_intermediate_size?: number;
  shared_expert_intermediate_size?: number;
  norm_topk_prob?: boolean;
  router_aux_loss_coef?: number;
  output_router_logits?: boolean;
  tokenizer: { kind: 'byte-level'; train_on: 'none' | 'chatml' | 'responses'; vocab_size: number; model_max_length: number };
}
