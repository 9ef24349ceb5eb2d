/**
 * The prediction record format (schemas/prediction-record.schema.json): one JSON object a line
 * in a predictions artifact's `predictions.jsonl`.
 *
 *   { id, domain, question_type, question_id, question, scale, reference, prediction,
 *     prompt_tokens, completion_tokens, finish_reason }
 *
 * generate writes every field (predictionFromChatml; null where its ChatML record had none), so
 * the score stage's survey metrics and distribution section find the question and its scale. A
 * file from elsewhere needs only `id` (unique) and `prediction`; null and absent mean the same.
 * Two ways to read, one set of rules: parsePredictions lists bad lines and keeps the rest (the
 * score stage: one bad line never loses a run), readPredictions throws at the first one.
 */
import { DataError } from '../core/errors.js';
import { readTextFile } from '../core/files.js';
import { chatmlReference, type ChatmlRecord } from './chatml.js';
import { idOf, jsonlLines } from './jsonl.js';
import { schemaProblem } from './schema-check.js';
import { scaleProblem, type AnswerScale } from './survey-item.js';

/** The file of a predictions artifact. */
export const PREDICTIONS_FILE = 'predictions.jsonl';

/** A prediction record as read: fields that are absent or null in the file are undefined. */
export interface PredictionRecord {
  id: string;
  prediction: string;
  reference?: string;
  domain?: string;
  question_type?: string;
  /** Groups the records of one question (the distribution section's key). */
  question_id?: string;
  /** The question text. */
  question?: string;
  scale?: AnswerScale;
  prompt_tokens?: number;
  completion_tokens?: number;
  finish_reason?: FinishReason;
}

export type FinishReason = 'stop' | 'length';

/** What generate writes: every field, null where unknown, in this key order. */
export interface GeneratedPrediction {
  id: string;
  domain: string | null;
  question_type: string | null;
  question_id: string | null;
  question: string | null;
  scale: AnswerScale | null;
  reference: string | null;
  prediction: string;
  prompt_tokens: number;
  completion_tokens: number;
  finish_reason: FinishReason;
}

export interface NumberedPrediction<R extends PredictionRecord = PredictionRecord> {
  /** 1-based line in the file. */
  line: number;
  record: R;
}

export interface SkippedLine {
  line: number;
  reason: string;
}

/** One answer of the generator, as generate hands it over. */
export interface GeneratedAnswer {
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: FinishReason;
}

/** The prediction line for one ChatML record: the record's survey fields, then the answer. */
export function predictionFromChatml(record: ChatmlRecord, answer: GeneratedAnswer): GeneratedPrediction {
  const metaQuestionId = record.meta?.question_id;
  return {
    id: record.id,
    domain: record.domain ?? null,
    question_type: record.question_type ?? null,
    question_id: record.question?.id ?? (typeof metaQuestionId === 'string' ? metaQuestionId : null),
    question: record.question?.text ?? null,
    scale: record.question?.scale ?? null,
    reference: chatmlReference(record),
    prediction: answer.text,
    prompt_tokens: answer.promptTokens,
    completion_tokens: answer.completionTokens,
    finish_reason: answer.finishReason,
  };
}

/** The record in `value` (one parsed line), or why it is not one (`field: message`). */
export function checkPrediction(value: Record<string, unknown>): { record: PredictionRecord; problem?: undefined } | { record?: undefined; problem: string } {
  const problem = schemaProblem('prediction-record', value);
  if (problem !== undefined) return { problem };
  const scale = value.scale as AnswerScale | null | undefined;
  const scaleIssue = scale == null ? undefined : scaleProblem(scale);
  if (scaleIssue !== undefined) return { problem: `scale: ${scaleIssue}` };
  const record: PredictionRecord = { id: idOf(value)!, prediction: value.prediction as string };
  const text = (key: 'reference' | 'domain' | 'question_type' | 'question'): void => {
    if (typeof value[key] === 'string') record[key] = value[key];
  };
  text('reference');
  text('domain');
  text('question_type');
  if (value.question_id != null) record.question_id = String(value.question_id);
  text('question');
  if (scale != null) record.scale = scale;
  if (typeof value.prompt_tokens === 'number') record.prompt_tokens = value.prompt_tokens;
  if (typeof value.completion_tokens === 'number') record.completion_tokens = value.completion_tokens;
  if (typeof value.finish_reason === 'string') record.finish_reason = value.finish_reason as FinishReason;
  return { record };
}

/** Parses JSONL text: good records and bad lines (with the reason), both in file order. */
export function parsePredictions(text: string): { records: NumberedPrediction[]; skipped: SkippedLine[] } {
  const records: NumberedPrediction[] = [];
  const skipped: SkippedLine[] = [];
  const seen = new Map<string, number>();
  for (const row of jsonlLines(text)) {
    const checked = row.problem === undefined ? checkPrediction(row.value) : { problem: row.problem };
    if (checked.record === undefined) {
      const id = idOf(row.value);
      skipped.push({ line: row.line, reason: id === undefined ? checked.problem! : `record "${id}": ${checked.problem!}` });
      continue;
    }
    const first = seen.get(checked.record.id);
    if (first !== undefined) {
      skipped.push({ line: row.line, reason: `record "${checked.record.id}": duplicate id (first on line ${first})` });
      continue;
    }
    seen.set(checked.record.id, row.line);
    records.push({ line: row.line, record: checked.record });
  }
  return { records, skipped };
}

/** Reads a predictions file; the first bad line throws a DataError `FILE:LINE: record "ID": field: message`. */
export function readPredictions(file: string): NumberedPrediction[] {
  const { records, skipped } = parsePredictions(readTextFile(file, 'predictions file'));
  const bad = skipped[0];
  if (bad !== undefined) throw new DataError('bad-record', `${file}:${bad.line}: ${bad.reason}`, { location: { file, line: bad.line } });
  return records;
}

/** Reads a predictions file, keeping the good records and listing the bad lines. */
export function readPredictionsLenient(file: string): { records: NumberedPrediction[]; skipped: SkippedLine[] } {
  return parsePredictions(readTextFile(file, 'predictions file'));
}
