/** Per-record scores: one row of records.jsonl. */
import { bleu } from './bleu.js';
import { recordDistinctN } from './distinct.js';
import { rougeScores } from './rouge.js';
import { answerAgreement, quality, sentenceCount, wordCount } from './survey.js';
import { countSimilarity } from './survey.js';
import { compoundScore } from './sentiment/vader.js';
import type { MetricName } from './metric-names.js';
import type { RougeF } from './lexical-pass.js';
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

/**
 * Work done once per record by LexicalPass (lexical-pass.ts) and shared here: word counts and the
 * lexical metric values. A value left out is computed by the per-metric function.
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

/** Scores one record on the per-record metrics in `metrics` (corpus metrics are aggregated elsewhere). */
export function scoreRecord(line: number, r: PredictionRecord, metrics: ReadonlySet<MetricName>, shared?: SharedTokens): RecordScores {
  const s: Partial<Record<MetricName, number>> = {};
  const type = r.question_type ?? 'open';
  if (metrics.has('bleu')) s.bleu = shared?.bleu ?? bleu(r.prediction, r.reference);
  if (metrics.has('rouge1') || metrics.has('rouge2') || metrics.has('rougeL') || metrics.has('rougeLsum')) {
    let rg = shared?.rouge;
    if (!rg) {
      const full = rougeScores(r.reference, r.prediction);
      rg = { rouge1: full.rouge1.fmeasure, rouge2: full.rouge2.fmeasure, rougeL: full.rougeL.fmeasure, rougeLsum: full.rougeLsum.fmeasure };
    }
    if (metrics.has('rouge1')) s.rouge1 = rg.rouge1;
    if (metrics.has('rouge2')) s.rouge2 = rg.rouge2;
    if (metrics.has('rougeL')) s.rougeL = rg.rougeL;
    if (metrics.has('rougeLsum')) s.rougeLsum = rg.rougeLsum;
  }
  if (metrics.has('distinct_1')) s.distinct_1 = shared?.distinct1 ?? recordDistinctN(r.prediction, 1);
  if (metrics.has('distinct_2')) s.distinct_2 = shared?.distinct2 ?? recordDistinctN(r.prediction, 2);
  if (metrics.has('quality')) s.quality = quality({ prediction: r.prediction, questionType: type, question: r.question, scale: r.scale });
  const predWords = shared ? shared.predWords : wordCount(r.prediction);
  if (metrics.has('length_similarity')) s.length_similarity = countSimilarity(predWords, shared ? shared.refWords : wordCount(r.reference));
  if (metrics.has('sentence_similarity')) s.sentence_similarity = countSimilarity(sentenceCount(r.prediction), sentenceCount(r.reference));
  if (metrics.has('sentiment_similarity')) {
    const cp = shared?.compoundPred ?? compoundScore(r.prediction);
    const cr = shared?.compoundRef ?? compoundScore(r.reference);
    s.sentiment_similarity = 1 - Math.abs(cp - cr) / 2;
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
