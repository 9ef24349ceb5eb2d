/** The `with:` params of the report stage, validated against params.schema.json (defaults filled). */
export interface ReportParams {
  title: string;
  compare_paper: boolean;
  comparison: { base: string; finetuned: string; samples: number; confidence: number } | null;
  labels: Record<string, string>;
}
