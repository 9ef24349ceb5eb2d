/** Per-record scores: one row of records.jsonl. */
import { bleu } from './bleu.js';
import { recordDistinctN } from './distinct.js';
import { rougeScores } from './rouge.js';
import { answerAgreement, quality, sentenceCount, wordCount } from './survey.js';
import { countSimilarity } from './survey.js';
import { polarityScores } from './sentiment/vader.js';
import type { MetricName } from './metric-names.js';
import type { PredictionRecord } from './predictions-file.js';

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
  /** metric → value; a metric is absent where it is undefined for the record (answer_* on open items). */
  scores: Partial<Record<MetricName, number>>;
}

/** Work shared with the corpus metrics: the prediction's whitespace tokens and n-gram keys. */
export interface SharedTokens {
  predTokens: readonly string[];
  unigramKeys?: ReadonlyArray<string | number>;
  bigramKeys?: ReadonlyArray<string | number>;
}

function uniqueRatio(keys: ReadonlyArray<string | number>): number {
  return keys.length === 0 ? 0 : new Set(keys).size / keys.length;
}

/** Scores one record on the per-record metrics in `metrics` (corpus metrics are aggregated elsewhere). */
export function scoreRecord(line: number, r: PredictionRecord, metrics: ReadonlySet<MetricName>, shared?: SharedTokens): RecordScores {
  const s: Partial<Record<MetricName, number>> = {};
  const type = r.question_type ?? 'open';
  if (metrics.has('bleu')) s.bleu = bleu(r.prediction, r.reference);
  if (metrics.has('rouge1') || metrics.has('rouge2') || metrics.has('rougeL') || metrics.has('rougeLsum')) {
    const rg = rougeScores(r.reference, r.prediction);
    if (metrics.has('rouge1')) s.rouge1 = rg.rouge1.fmeasure;
    if (metrics.has('rouge2')) s.rouge2 = rg.rouge2.fmeasure;
    if (metrics.has('rougeL')) s.rougeL = rg.rougeL.fmeasure;
    if (metrics.has('rougeLsum')) s.rougeLsum = rg.rougeLsum.fmeasure;
  }
  if (metrics.has('distinct_1')) s.distinct_1 = shared?.unigramKeys ? uniqueRatio(shared.unigramKeys) : recordDistinctN(r.prediction, 1);
  if (metrics.has('distinct_2')) s.distinct_2 = shared?.bigramKeys ? uniqueRatio(shared.bigramKeys) : recordDistinctN(r.prediction, 2);
  if (metrics.has('quality')) s.quality = quality({ prediction: r.prediction, questionType: type, question: r.question, scale: r.scale });
  const predWords = shared ? shared.predTokens.length : wordCount(r.prediction);
  if (metrics.has('length_similarity')) s.length_similarity = countSimilarity(predWords, wordCount(r.reference));
  if (metrics.has('sentence_similarity')) s.sentence_similarity = countSimilarity(sentenceCount(r.prediction), sentenceCount(r.reference));
  if (metrics.has('sentiment_similarity')) {
    s.sentiment_similarity = 1 - Math.abs(polarityScores(r.prediction).compound - polarityScores(r.reference).compound) / 2;
  }
  const out: RecordScores = { line, id: r.id, domain: r.domain, question_type: r.question_type, prediction_words: predWords, scores: s };
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
