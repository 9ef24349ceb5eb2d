/**
 * The survey metrics of the paper's Table II, as this project defines them (the paper names
 * them without formulas; docs/metrics.md gives each definition):
 *
 *   length_similarity    = 1 - |wp - wr| / max(wp, wr)      on whitespace word counts (1 if both 0)
 *   sentence_similarity  = the same on sentence counts      (Intl.Segmenter, granularity sentence)
 *   sentiment_similarity = 1 - |cp - cr| / 2                 on VADER compound scores
 *   quality              = 1 when the prediction is a well-formed answer for its question type, else 0
 *   answer_match         = 1 when the answers read from prediction and reference agree (closed types)
 *   answer_distance      = |lp - lr| / (points - 1)          their ordinal distance (closed types)
 */
import { pySplit } from './python-text.js';
import { asciiSentenceCount } from './sentences-ascii.js';
import { compoundScore } from './sentiment/vader.js';
import { isClosedType, type AnswerScale } from '../formats/survey-item.js';
import { extractAnswer, type ExtractedAnswer } from './answers.js';

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

// Prompt and chat-template material that a well-formed answer never contains.
const ECHO_MARKERS = /<\|im_start\|>|<\|im_end\|>|<\|assistant\|>|<\|user\|>|<\|system\|>|<\/?s>|\[\/?INST\]|(?:^|\n)\s*(?:persona|domain|question|answer|system|user|assistant)\s*:/i;
// The text ends a sentence: terminal punctuation, optionally followed by closing quotes/brackets.
const COMPLETE_ENDING = /[.!?…]["'”’)\]]*\s*$/u;

function normalizeForEcho(s: string): string {
  return s.toLowerCase().replace(/\s+/g, ' ').trim();
}

export interface QualityInput {
  prediction: string;
  /** The record's question_type; a type other than likert, yesno, agreement counts as open. */
  questionType: string;
  question?: string;
  scale?: AnswerScale;
}

/**
 * 1 when the prediction is a well-formed answer, else 0.
 * Closed types: an answer level can be extracted (see answers.ts).
 * Open: at least 3 words, ends with a complete sentence, no prompt echo (no chat-template or
 * "Question:"-style markers, and not containing the question text itself when it is known).
 */
export function quality(input: QualityInput): number {
  const text = input.prediction;
  if (isClosedType(input.questionType)) return extractAnswer(text, input.questionType, input.scale) ? 1 : 0;
  if (wordCount(text) < 3) return 0;
  if (!COMPLETE_ENDING.test(text)) return 0;
  if (ECHO_MARKERS.test(text)) return 0;
  if (input.question) {
    const q = normalizeForEcho(input.question);
    if (q.length >= 12 && normalizeForEcho(text).includes(q)) return 0;
  }
  return 1;
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
