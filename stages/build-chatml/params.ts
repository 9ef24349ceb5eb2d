/** The `with:` params of the build-chatml stage, validated against params.schema.json (defaults filled). */
export interface BuildChatmlParams {
  split: { train: number; val: number; test: number };
  seed: number | null;
  persona_disjoint: boolean;
  preserve_splits: boolean;
  system_prompt: string | null;
  chat_template: 'auto' | 'native' | 'chatml';
  report: boolean;
}
