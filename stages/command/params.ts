/** The `with:` params of the command stage, validated against params.schema.json (defaults filled). */
export interface CommandParams {
  run: string;
  deps: string[];
  outs: string[];
  env: Record<string, string>;
}
