/** The `with:` params of the generate stage, validated against params.schema.json (defaults filled). */
export interface GenerateParams {
  split: 'train' | 'val' | 'test';
  do_sample: boolean;
  temperature: number;
  top_p: number;
  top_k: number;
  max_new_tokens: number;
  batch_size: number;
  limit: number | null;
  seed: number | null;
}
