/** The `with:` params of the synthesize-responses stage, validated against params.schema.json (defaults filled). */
export interface SynthesizeResponsesParams {
  teacher: {
    kind: 'template' | 'openai' | 'model';
    conditioning: 'demographics' | 'attitudes';
    /** template, demographics: closed answers open with the card line they follow (absent = false: no default, so existing stage keys stay). */
    cite_driver?: boolean;
    base_url: string | null;
    model: string | null;
    api_key_env: string | null;
    concurrency: number;
    max_retries: number;
    timeout_ms: number;
    backoff_ms: number;
    max_backoff_ms: number;
    temperature: number;
    max_tokens: number;
    top_p: number;
    batch_size: number;
  };
  seed: number | null;
  system_prompt: string | null;
  max_failure_share: number;
}
