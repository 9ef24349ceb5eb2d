/**
 * Predictions made outside this project, made scoreable: each JSONL line's id, prediction and
 * reference (under the caller's field names), joined by id to a dataset of the same items for
 * the domain, question type, question text, question id and answer scale that the survey metrics
 * and the distribution section read. Lines that cannot be used are listed with their reason.
 */
import type { AnswerScale } from '../formats/survey-item.js';

export interface ForeignLine {
  /** 1-based line number in the file */
  line: number;
  text: string;
}

/** A dataset record (import-dataset's dataset.jsonl or a chatml split line), as far as the join reads it. */
export interface JoinSource {
  id?: unknown;
  domain?: unknown;
  question_type?: unknown;
  question?: unknown;
}

export interface ImportedPrediction {
  id: string;
  domain: string | null;
  question_type: string | null;
  question: string | null;
  question_id: string | null;
  scale: AnswerScale | null;
  reference: string;
  prediction: string;
}

export interface JoinResult {
  records: ImportedPrediction[];
  rejected: Array<{ line: number; id: string | null; reason: string }>;
  /** records that found their id in the dataset */
  joined: number;
  /** ids not found in the dataset (when one was given) */
  unmatched: string[];
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

function questionOf(q: unknown): { text: string | null; id: string | null; scale: AnswerScale | null } {
  if (typeof q === 'string') return { text: q, id: null, scale: null };
  if (q === null || typeof q !== 'object') return { text: null, id: null, scale: null };
  const o = q as { text?: unknown; id?: unknown; scale?: unknown };
  const s = o.scale as { points?: unknown; labels?: unknown } | undefined;
  const scale = s && typeof s.points === 'number' && Number.isInteger(s.points) && s.points >= 2
    ? { points: s.points, ...(Array.isArray(s.labels) && s.labels.length === s.points && s.labels.every((l) => typeof l === 'string') ? { labels: s.labels as string[] } : {}) }
    : null;
  return { text: str(o.text), id: str(o.id), scale };
}

export function joinPredictions(lines: readonly ForeignLine[], fields: { id: string; prediction: string; reference: string }, dataset?: readonly JoinSource[]): JoinResult {
  const byId = new Map<string, JoinSource>();
  for (const r of dataset ?? []) {
    const id = str(r.id);
    if (id !== null && !byId.has(id)) byId.set(id, r);
  }
  const out: JoinResult = { records: [], rejected: [], joined: 0, unmatched: [] };
  const seen = new Set<string>();
  for (const { line, text } of lines) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      out.rejected.push({ line, id: null, reason: `not JSON (${(err as Error).message})` });
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      out.rejected.push({ line, id: null, reason: 'not a JSON object' });
      continue;
    }
    const o = value as Record<string, unknown>;
    const id = str(o[fields.id]) ?? `line-${line}`;
    const prediction = o[fields.prediction];
    const reference = o[fields.reference];
    if (typeof prediction !== 'string' || typeof reference !== 'string') {
      out.rejected.push({ line, id, reason: `missing or non-string "${typeof prediction !== 'string' ? fields.prediction : fields.reference}"` });
      continue;
    }
    if (seen.has(id)) {
      out.rejected.push({ line, id, reason: `duplicate id "${id}"` });
      continue;
    }
    seen.add(id);
    const src = byId.get(id);
    if (dataset && !src) out.unmatched.push(id);
    if (src) out.joined++;
    const q = questionOf(src?.question);
    out.records.push({
      id,
      domain: str(src?.domain) ?? str(o.domain),
      question_type: str(src?.question_type) ?? str(o.question_type),
      question: q.text ?? str(o.question),
      question_id: q.id ?? str(o.question_id),
      scale: q.scale,
      reference,
      prediction,
    });
  }
  return out;
}
