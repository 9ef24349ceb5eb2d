/** The `with:` params of the init-model stage, validated against params.schema.json (defaults filled). */
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
