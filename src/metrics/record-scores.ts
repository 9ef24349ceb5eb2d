/** Per-record scores: one row of records.jsonl. */
import { InternalError } from '../core/errors.js';
import { answerAgreement, countSimilarity, sentenceCount } from './survey.js';
import type { QualityContext } from './quality/quality.js';
import type { MetricName } from './metric-names.js';
import type { RougeF } from './lexical-pass.js';
import type { PredictionRecord } from '../formats/predictions.js';

/** A prediction with a reference to score against (the score stage skips lines without one). */
export type ReferencedPrediction = PredictionRecord & { reference: string };

export interface RecordScores {
  line: number;
  id?: string;
  domain?: string;
  question_type?: string;
  /** Answer levels read from prediction and reference (closed types), for the distribution section. */
  answer_pred?: number | null;
  answer_ref?: number | null;
  answer_points?: number;
  prediction_words: number;
  /** Length of the prediction in characters (Unicode code points), as the paper's Figure 5 counts. */
  prediction_chars: number;
  /** metric → value; a metric is absent where it is undefined for the record (answer_* on open items). */
  scores: Partial<Record<MetricName, number>>;
}

/**
 * Work done once per record by LexicalPass (lexical-pass.ts) and shared here: word counts and the
 * lexical metric values. LexicalPass fills every value whose metric was requested (its `needs`
 * follow the metric list); the per-metric functions (bleu.ts, rouge.ts, distinct.ts, vader.ts)
 * are the independent references the tests compare it against.
 */
export interface SharedTokens {
  predWords: number;
  refWords: number;
  bleu?: number;
  rouge?: RougeF;
  distinct1?: number;
  distinct2?: number;
  compoundPred?: number;
  compoundRef?: number;
}

/**
 * Scores one record on the per-record metrics in `metrics` (corpus metrics are aggregated
 * elsewhere). `quality` needs the file's QualityContext and the record's index in it.
 */
export function scoreRecord(line: number, r: ReferencedPrediction, metrics: ReadonlySet<MetricName>, shared: SharedTokens, quality?: { context: QualityContext; index: number }): RecordScores {
  const s: Partial<Record<MetricName, number>> = {};
  const type = r.question_type ?? 'open';
  if (metrics.has('bleu')) s.bleu = need(shared.bleu, 'bleu');
  if (metrics.has('rouge1') || metrics.has('rouge2') || metrics.has('rougeL') || metrics.has('rougeLsum')) {
    const rg = need(shared.rouge, 'rouge');
    if (metrics.has('rouge1')) s.rouge1 = rg.rouge1;
    if (metrics.has('rouge2')) s.rouge2 = rg.rouge2;
    if (metrics.has('rougeL')) s.rougeL = rg.rougeL;
    if (metrics.has('rougeLsum')) s.rougeLsum = rg.rougeLsum;
  }
  if (metrics.has('distinct_1')) s.distinct_1 = need(shared.distinct1, 'distinct_1');
  if (metrics.has('distinct_2')) s.distinct_2 = need(shared.distinct2, 'distinct_2');
  if (metrics.has('quality')) {
    if (!quality) throw new InternalError('quality was requested without the file\'s QualityContext');
    s.quality = quality.context.parts(quality.index, { prediction: r.prediction, questionType: type, question: r.question, scale: r.scale }).quality;
  }
  const predWords = shared.predWords;
  if (metrics.has('length_similarity')) s.length_similarity = countSimilarity(predWords, shared.refWords);
  if (metrics.has('sentence_similarity')) s.sentence_similarity = countSimilarity(sentenceCount(r.prediction), sentenceCount(r.reference));
  if (metrics.has('sentiment_similarity')) {
    s.sentiment_similarity = 1 - Math.abs(need(shared.compoundPred, 'sentiment') - need(shared.compoundRef, 'sentiment')) / 2;
  }
  const out: RecordScores = { line, id: r.id, domain: r.domain, question_type: r.question_type, prediction_words: predWords, prediction_chars: codePoints(r.prediction), scores: s };
  if (metrics.has('answer_match') || metrics.has('answer_distance')) {
    const a = answerAgreement(r.prediction, r.reference, type, r.scale);
    if (a.match !== undefined && metrics.has('answer_match')) s.answer_match = a.match;
    if (a.distance !== undefined && metrics.has('answer_distance')) s.answer_distance = a.distance;
    if (a.reference || a.prediction) {
      out.answer_pred = a.prediction?.level ?? null;
      out.answer_ref = a.reference?.level ?? null;
      out.answer_points = (a.reference ?? a.prediction)!.points;
    }
  }
  return out;
}

/** A value LexicalPass must have filled (its needs follow the requested metrics); a miss is a wiring bug. */
function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new InternalError(`LexicalPass did not compute ${what} for a requested metric`);
  return value;
}

/** Length in Unicode code points (Python's len(str)): UTF-16 units minus low surrogates that close a pair. */
export function codePoints(text: string): number {
  let n = text.length;
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) {
      const p = text.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) n--;
    }
  }
  return n;
}
