/**
 * Base vs fine-tuned: per metric, both systems' means over the SAME units and a paired bootstrap
 * interval of the difference (bootstrap.ts). Units:
 *  - per-record metrics (BLEU, ROUGE, BERTScore F1, the survey metrics, answer_match/distance):
 *    test records present in both runs (joined by id) on which the metric is defined in both;
 *  - distribution metrics (Wasserstein, JSD, variance ratio of closed answers against the
 *    reference answers, per question): questions present in both runs with a value in both.
 * Corpus-level metrics (bleu_corpus, distinct_n) have no per-unit values and are left out.
 * Lower is better for answer_distance, wasserstein and jsd; variance_ratio is best at 1.
 */
import { deriveSeed } from '../core/prng.js';
import { pairedBootstrap, type PairedDifference } from './bootstrap.js';

export const RECORD_METRICS = [
  'bleu', 'rouge1', 'rouge2', 'rougeL', 'rougeLsum', 'bertscore_f1',
  'quality', 'length_similarity', 'sentence_similarity', 'sentiment_similarity', 'answer_match', 'answer_distance',
] as const;
export const QUESTION_METRICS = ['wasserstein', 'jsd', 'variance_ratio'] as const;
export const LOWER_IS_BETTER: ReadonlySet<string> = new Set(['answer_distance', 'wasserstein', 'jsd']);

/** The scores of one test record of a run (records.jsonl). */
export interface RecordRow {
  id?: string;
  domain?: string;
  scores: Record<string, number | undefined>;
}

/** What a run contributes to a comparison. */
export interface ComparableRun {
  records: readonly RecordRow[];
  /** question key → distribution metric → value (metrics.json distribution.questions) */
  questions: Record<string, Record<string, number | null | undefined>>;
}

export interface ComparisonEntry extends PairedDifference {
  metric: string;
  /** what was resampled */
  unit: 'record' | 'question';
}

export interface ComparisonOptions {
  samples: number;
  confidence: number;
  seed: number;
}

function byId(rows: readonly RecordRow[]): Map<string, RecordRow> {
  const out = new Map<string, RecordRow>();
  for (const r of rows) if (typeof r.id === 'string' && !out.has(r.id)) out.set(r.id, r);
  return out;
}

/**
 * One entry per metric with at least one paired unit, record metrics first. Each metric's
 * resampling stream is seeded by (seed, metric), so adding a metric changes no other interval.
 */
export function compareRuns(base: ComparableRun, finetuned: ComparableRun, options: ComparisonOptions): ComparisonEntry[] {
  const out: ComparisonEntry[] = [];
  const b = byId(base.records);
  const f = byId(finetuned.records);
  const ids = [...b.keys()].filter((id) => f.has(id)).sort();
  for (const metric of RECORD_METRICS) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const id of ids) {
      const x = b.get(id)!.scores[metric];
      const y = f.get(id)!.scores[metric];
      if (typeof x === 'number' && typeof y === 'number') {
        xs.push(x);
        ys.push(y);
      }
    }
    const d = pairedBootstrap(xs, ys, { samples: options.samples, confidence: options.confidence, seed: deriveSeed(options.seed, `bootstrap\u0000${metric}`) });
    if (d) out.push({ metric, unit: 'record', ...d });
  }
  const questions = Object.keys(base.questions).filter((q) => q in finetuned.questions).sort();
  for (const metric of QUESTION_METRICS) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const q of questions) {
      const x = base.questions[q]![metric];
      const y = finetuned.questions[q]![metric];
      if (typeof x === 'number' && typeof y === 'number') {
        xs.push(x);
        ys.push(y);
      }
    }
    const d = pairedBootstrap(xs, ys, { samples: options.samples, confidence: options.confidence, seed: deriveSeed(options.seed, `bootstrap\u0000${metric}`) });
    if (d) out.push({ metric, unit: 'question', ...d });
  }
  return out;
}

/** "better", "worse" or "no difference" at the interval's confidence, by the metric's direction. */
export function verdict(e: ComparisonEntry): 'better' | 'worse' | 'no difference' {
  if (e.metric === 'variance_ratio') {
    // closer to 1 is better: judged on |ratio − 1| only when the whole interval moves one way
    if (e.ci_low > 0 && e.base < 1 && e.finetuned <= 1) return 'better';
    if (e.ci_high < 0 && e.base > 1 && e.finetuned >= 1) return 'better';
    return e.ci_low > 0 || e.ci_high < 0 ? (Math.abs(e.finetuned - 1) < Math.abs(e.base - 1) ? 'better' : 'worse') : 'no difference';
  }
  if (e.ci_low > 0) return LOWER_IS_BETTER.has(e.metric) ? 'worse' : 'better';
  if (e.ci_high < 0) return LOWER_IS_BETTER.has(e.metric) ? 'better' : 'worse';
  return 'no difference';
}
