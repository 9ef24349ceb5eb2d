/** The `with:` params of the fetch-model stage, validated against params.schema.json (defaults filled). */
export interface FetchModelParams {
  repo_id: string;
  revision: string;
  allow_patterns: string[];
  ignore_patterns: string[];
  check_model: boolean;
}
