/**
 * Reading a predictions JSONL file (DESIGN: `id`, `domain`, `question_type`, `reference`,
 * `prediction`, optionally `question`, `question_id` and `scale`). A line that is not JSON, not
 * an object, or lacks a string `prediction`/`reference` is listed by line number in `skipped`
 * and the rest is kept: one bad line never loses a run.
 */
import type { AnswerScale } from './answers.js';

export interface PredictionRecord {
  id?: string;
  domain?: string;
  question_type?: string;
  question?: string;
  question_id?: string;
  scale?: AnswerScale;
  reference: string;
  prediction: string;
}

export interface NumberedPrediction {
  /** 1-based line in the file. */
  line: number;
  record: PredictionRecord;
}

export interface SkippedLine {
  line: number;
  reason: string;
}

function optionalString(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function parseScale(v: unknown): AnswerScale | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const s = v as { points?: unknown; labels?: unknown };
  if (typeof s.points !== 'number' || !Number.isInteger(s.points) || s.points < 2) return undefined;
  const labels = Array.isArray(s.labels) && s.labels.every((l) => typeof l === 'string') && s.labels.length === s.points ? (s.labels as string[]) : undefined;
  return labels ? { points: s.points, labels } : { points: s.points };
}

/** Parses JSONL text into numbered records and skipped lines. Blank lines are ignored. */
export function parsePredictions(text: string): { records: NumberedPrediction[]; skipped: SkippedLine[] } {
  const records: NumberedPrediction[] = [];
  const skipped: SkippedLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      skipped.push({ line, reason: `not JSON (${(err as Error).message})` });
      continue;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      skipped.push({ line, reason: 'not a JSON object' });
      continue;
    }
    const obj = value as Record<string, unknown>;
    const missing = ['prediction', 'reference'].filter((k) => typeof obj[k] !== 'string');
    if (missing.length > 0) {
      skipped.push({ line, reason: `missing or non-string ${missing.map((m) => `"${m}"`).join(' and ')}` });
      continue;
    }
    records.push({
      line,
      record: {
        id: optionalString(obj, 'id'),
        domain: optionalString(obj, 'domain'),
        question_type: optionalString(obj, 'question_type'),
        question: optionalString(obj, 'question'),
        question_id: optionalString(obj, 'question_id'),
        scale: parseScale(obj.scale),
        reference: obj.reference as string,
        prediction: obj.prediction as string,
      },
    });
  }
  return { records, skipped };
}
