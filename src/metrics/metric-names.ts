/** The metric names of metrics.json (issue 5), their groups, and resolving a user's list. */
import { UserError } from '../core/errors.js';

export const METRIC_NAMES = [
  'bleu', 'bleu_corpus', 'rouge1', 'rouge2', 'rougeL', 'rougeLsum',
  'bertscore_precision', 'bertscore_recall', 'bertscore_f1',
  'distinct_1', 'distinct_2',
  'quality', 'length_similarity', 'sentence_similarity', 'sentiment_similarity', 'answer_match', 'answer_distance',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** Group names a pipeline or the CLI may use instead of single metrics. */
export const METRIC_GROUPS: Record<string, readonly MetricName[]> = {
  bleu: ['bleu', 'bleu_corpus'],
  rouge: ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'],
  bertscore: ['bertscore_precision', 'bertscore_recall', 'bertscore_f1'],
  distinct: ['distinct_1', 'distinct_2'],
  survey: ['quality', 'length_similarity', 'sentence_similarity', 'sentiment_similarity', 'answer_match', 'answer_distance'],
  lexical: ['bleu', 'bleu_corpus', 'rouge1', 'rouge2', 'rougeL', 'rougeLsum', 'distinct_1', 'distinct_2'],
};

/** Default: every lexical and survey metric (BERTScore needs an encoder, so it is opt-in). */
export const DEFAULT_METRICS: readonly MetricName[] = [...METRIC_GROUPS.lexical!, ...METRIC_GROUPS.survey!];

/**
 * Expands group names and checks every name; the result keeps METRIC_NAMES order.
 * Throws a UserError listing the valid names for an unknown one.
 */
export function resolveMetrics(names: readonly string[] | undefined): MetricName[] {
  if (!names || names.length === 0) return [...DEFAULT_METRICS];
  const chosen = new Set<MetricName>();
  for (const raw of names) {
    const name = raw.trim();
    const group = METRIC_GROUPS[name];
    if (group) group.forEach((m) => chosen.add(m));
    else if ((METRIC_NAMES as readonly string[]).includes(name)) chosen.add(name as MetricName);
    else throw new UserError('unknown-metric', `unknown metric "${name}"; choose from ${[...Object.keys(METRIC_GROUPS), ...METRIC_NAMES].join(', ')}`);
  }
  return METRIC_NAMES.filter((m) => chosen.has(m));
}
