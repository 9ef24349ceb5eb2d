/**
 * The survey metrics of the paper's Table II, as this project defines them (the paper names
 * them without formulas; docs/metrics.md gives each definition):
 *
 *   length_similarity    = 1 - |wp - wr| / max(wp, wr)      on whitespace word counts (1 if both 0)
 *   sentence_similarity  = the same on sentence counts      (Intl.Segmenter, granularity sentence)
 *   sentiment_similarity = 1 - |cp - cr| / 2                 on VADER compound scores
 *   quality              = form × completeness × wordness × repetition × relevance, in [0, 1] (quality/quality.ts)
 *   answer_match         = 1 when the answers read from prediction and reference agree (closed types)
 *   answer_distance      = |lp - lr| / (points - 1)          their ordinal distance (closed types)
 */
import { pySplit } from './python-text.js';
import { asciiSentenceCount } from './sentences-ascii.js';
import { compoundScore } from './sentiment/vader.js';
import { extractAnswer, type ExtractedAnswer } from './answers.js';
import { isClosedType, type AnswerScale } from '../formats/survey-item.js';
import { qualityParts, type QualityInput } from './quality/quality.js';

/** 1 - |a - b| / max(a, b) for non-negative counts; 1 when both are 0. */
export function countSimilarity(a: number, b: number): number {
  const m = Math.max(a, b);
  return m === 0 ? 1 : 1 - Math.abs(a - b) / m;
}

export function wordCount(text: string): number {
  return pySplit(text).length;
}

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
const HAS_CONTENT = /[\p{L}\p{N}]/u;

/** Sentences per Intl.Segmenter (UAX #29), counting only segments with a letter or digit. */
export function sentenceCount(text: string): number {
  // ASCII text: the same rules without the segmenter's per-segment objects (~10x faster)
  return asciiSentenceCount(text) ?? segmenterSentenceCount(text);
}

/** sentenceCount by Intl.Segmenter itself (any text). */
export function segmenterSentenceCount(text: string): number {
  let n = 0;
  for (const seg of segmenter.segment(text)) if (HAS_CONTENT.test(seg.segment)) n++;
  return n;
}

export function lengthSimilarity(prediction: string, reference: string): number {
  return countSimilarity(wordCount(prediction), wordCount(reference));
}

export function sentenceSimilarity(prediction: string, reference: string): number {
  return countSimilarity(sentenceCount(prediction), sentenceCount(reference));
}

export function sentimentSimilarity(prediction: string, reference: string): number {
  return 1 - Math.abs(compoundScore(prediction) - compoundScore(reference)) / 2;
}

export type { QualityInput } from './quality/quality.js';

/**
 * quality of one record on its own (quality/quality.ts): form × completeness × wordness ×
 * repetition, without the relevance factor, which needs the other records of the file
 * (scorePredictions applies it through QualityContext).
 */
export function quality(input: QualityInput): number {
  return qualityParts(input).quality;
}

export interface AnswerAgreement {
  prediction: ExtractedAnswer | null;
  reference: ExtractedAnswer | null;
  /** undefined when the item is open or the reference gives no readable answer. */
  match?: number;
  distance?: number;
}

/**
 * answer_match / answer_distance for one record. Defined only for closed types whose reference
 * answer can be read; an unreadable prediction then counts as a miss (match 0, distance 1).
 */
export function answerAgreement(prediction: string, reference: string, type: string, scale?: AnswerScale): AnswerAgreement {
  if (!isClosedType(type)) return { prediction: null, reference: null };
  const p = extractAnswer(prediction, type, scale);
  const r = extractAnswer(reference, type, scale);
  if (!r) return { prediction: p, reference: r };
  if (!p) return { prediction: p, reference: r, match: 0, distance: 1 };
  return { prediction: p, reference: r, match: p.level === r.level ? 1 : 0, distance: Math.abs(p.level - r.level) / (r.points - 1) };
}
