/**
 * scorePredictions / scorePredictionsFile: the library behind the `score` stage and the
 * `polypersona score PREDICTIONS.jsonl` command. Output shapes:
 *
 * metrics.json = {
 *   n, skipped: [{ line, reason }], metrics: [names],
 *   overall, by_domain: { domain: {...} }, by_question_type: { type: {...} },   // metric → value | null
 *   distribution: { questions: { key: QuestionDistribution }, summary: { wasserstein, jsd, variance_ratio } }
 * }
 * Per-record metrics are means over the records where the metric is defined (null where none is);
 * bleu_corpus and distinct_n are corpus values over the group's records.
 * records.jsonl = one RecordScores per scored line, in file order.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic.js';
import { readPredictionsLenient, type NumberedPrediction, type SkippedLine } from '../formats/predictions.js';
import { corpusBleuFromStats, type SegmentStats } from './sacrebleu.js';
import { LexicalPass } from './lexical-pass.js';
import { compareDistributions, type QuestionDistribution } from './distribution.js';
import { resolveMetrics, type MetricName } from './metric-names.js';
import { scoreRecord, type RecordScores, type ReferencedPrediction } from './record-scores.js';
import { QualityContext } from './quality/quality.js';

export type { MetricName } from './metric-names.js';
export { METRIC_NAMES, METRIC_GROUPS, DEFAULT_METRICS, resolveMetrics } from './metric-names.js';
export type { SkippedLine } from '../formats/predictions.js';
export type { RecordScores, ReferencedPrediction } from './record-scores.js';

/** A parsed prediction line with a reference. */
export type ScoredInput = NumberedPrediction<ReferencedPrediction>;

export type MetricMap = Partial<Record<MetricName, number | null>>;
export type GroupBy = 'domain' | 'question_type';

/** BERTScore for aligned lists (see bertscore/): precision, recall, F1 per pair. */
export type BertScoreFn = (predictions: string[], references: string[]) => Promise<Array<{ precision: number; recall: number; f1: number }>>;

export interface ScoreOptions {
  /** Metric or group names; default every lexical and survey metric. */
  metrics?: readonly string[];
  /** Groupings to report; default both. */
  by?: readonly GroupBy[];
  /** Needed when a bertscore metric is requested. */
  bertscore?: BertScoreFn;
  /** Called after each scored record (progress). */
  onRecord?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface MetricsJson {
  n: number;
  skipped: SkippedLine[];
  metrics: MetricName[];
  overall: MetricMap;
  by_domain?: Record<string, MetricMap>;
  by_question_type?: Record<string, MetricMap>;
  distribution: {
    questions: Record<string, QuestionDistribution>;
    summary: { wasserstein: number | null; jsd: number | null; variance_ratio: number | null; questions: number };
  };
}

export interface ScoreResult {
  metrics: MetricsJson;
  records: RecordScores[];
}

function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Per-record inputs of the corpus metrics, computed once and summed per group. */
interface CorpusParts {
  bleu?: SegmentStats;
  /** LexicalPass ids of the prediction's unigrams / bigrams. */
  unigrams?: Int32Array;
  bigrams?: Int32Array;
}

function aggregate(rows: readonly RecordScores[], parts: readonly CorpusParts[], metrics: readonly MetricName[], lexical: LexicalPass): MetricMap {
  const out: MetricMap = {};
  for (const m of metrics) {
    if (m === 'bleu_corpus') {
      out[m] = parts.length === 0 ? null : corpusBleuFromStats(parts.map((p) => p.bleu!)).score;
    } else if (m === 'distinct_1' || m === 'distinct_2') {
      const n = m === 'distinct_1' ? 1 : 2;
      out[m] = parts.length === 0 ? null : lexical.corpusDistinct(parts.map((p) => (n === 1 ? p.unigrams! : p.bigrams!)), n);
    } else {
      const values: number[] = [];
      for (const row of rows) {
        const v = row.scores[m];
        if (v !== undefined) values.push(v);
      }
      out[m] = mean(values);
    }
  }
  return out;
}

function groupIndices(inputs: readonly ScoredInput[], key: GroupBy): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  inputs.forEach((r, i) => {
    const k = r.record[key] ?? 'unknown';
    const list = groups.get(k);
    if (list) list.push(i);
    else groups.set(k, [i]);
  });
  return new Map([...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function distributionSection(inputs: readonly ScoredInput[], rows: readonly RecordScores[]): MetricsJson['distribution'] {
  const byQuestion = new Map<string, { points: number; pred: number[]; ref: number[] }>();
  rows.forEach((row, i) => {
    if (row.answer_points === undefined) return;
    const rec = inputs[i]!.record;
    const key = rec.question_id ?? rec.question;
    if (key === undefined) return;
    let q = byQuestion.get(key);
    if (!q) byQuestion.set(key, (q = { points: row.answer_points, pred: [], ref: [] }));
    if (row.answer_pred != null) q.pred.push(row.answer_pred);
    if (row.answer_ref != null) q.ref.push(row.answer_ref);
  });
  const questions: Record<string, QuestionDistribution> = {};
  const w: number[] = [];
  const j: number[] = [];
  const v: number[] = [];
  for (const key of [...byQuestion.keys()].sort()) {
    const q = byQuestion.get(key)!;
    const d = compareDistributions(q.pred, q.ref, q.points);
    questions[key] = d;
    if (d.wasserstein !== null) w.push(d.wasserstein);
    if (d.jsd !== null) j.push(d.jsd);
    if (d.variance_ratio !== null) v.push(d.variance_ratio);
  }
  return { questions, summary: { wasserstein: mean(w), jsd: mean(j), variance_ratio: mean(v), questions: Object.keys(questions).length } };
}

/** Scores parsed records (`line` numbers are kept in records.jsonl). */
export async function scorePredictions(inputs: readonly ScoredInput[], options: ScoreOptions = {}, skipped: SkippedLine[] = []): Promise<ScoreResult> {
  const metrics = resolveMetrics(options.metrics);
  const wanted = new Set(metrics);
  const rows: RecordScores[] = [];
  const parts: CorpusParts[] = [];
  const has = (...names: MetricName[]): boolean => names.some((m) => wanted.has(m));
  // one tokenisation per text shared by all lexical metrics (see lexical-pass.ts)
  const lexical = new LexicalPass({
    bleu: has('bleu'),
    rouge: has('rouge1', 'rouge2', 'rougeL', 'rougeLsum'),
    bleuCorpus: has('bleu_corpus'),
    distinct: has('distinct_1', 'distinct_2'),
    sentiment: has('sentiment_similarity'),
  });
  // quality's relevance and vocabulary come from the whole file (quality/quality.ts)
  const quality = wanted.has('quality') ? new QualityContext(inputs.map((x) => x.record)) : undefined;
  for (let i = 0; i < inputs.length; i++) {
    if (options.signal?.aborted) throw options.signal.reason;
    const r = inputs[i]!.record;
    const lex = lexical.score(r.prediction, r.reference);
    parts.push({ bleu: lex.segment, unigrams: lex.unigrams, bigrams: lex.bigrams });
    rows.push(scoreRecord(inputs[i]!.line, r, wanted, lex, quality && { context: quality, index: i }));
    options.onRecord?.(i + 1, inputs.length);
  }
  if (metrics.some((m) => m.startsWith('bertscore_'))) {
    if (!options.bertscore) throw new DataError('bertscore-unavailable', 'a bertscore metric was requested but no BERTScore encoder was given');
    const bs = await options.bertscore(inputs.map((r) => r.record.prediction), inputs.map((r) => r.record.reference));
    bs.forEach((b, i) => {
      const s = rows[i]!.scores;
      if (wanted.has('bertscore_precision')) s.bertscore_precision = b.precision;
      if (wanted.has('bertscore_recall')) s.bertscore_recall = b.recall;
      if (wanted.has('bertscore_f1')) s.bertscore_f1 = b.f1;
    });
  }
  const by = options.by ?? ['domain', 'question_type'];
  const result: MetricsJson = {
    n: inputs.length,
    skipped,
    metrics,
    overall: aggregate(rows, parts, metrics, lexical),
    distribution: distributionSection(inputs, rows),
  };
  for (const key of by) {
    const groups: Record<string, MetricMap> = {};
    for (const [name, idx] of groupIndices(inputs, key)) {
      groups[name] = aggregate(idx.map((i) => rows[i]!), idx.map((i) => parts[i]!), metrics, lexical);
    }
    if (key === 'domain') result.by_domain = groups;
    else result.by_question_type = groups;
  }
  // key order of the object literal above is the file's key order; move distribution last
  const { distribution, ...head } = result;
  return { metrics: { ...head, distribution }, records: rows };
}

/**
 * Reads (src/formats/predictions.ts) and scores a predictions JSONL file. Lines that are not
 * prediction records, and records without a `reference` to score against, are listed in
 * `metrics.skipped` by line number; the rest are scored. A file with nothing to score (empty,
 * blank lines only, every line unusable) is an error that names the first bad line, never
 * "0 records scored"; the reader refuses binary data, invalid UTF-8 and non-regular files (a
 * FIFO would block).
 */
export async function scorePredictionsFile(path: string, options: ScoreOptions = {}): Promise<ScoreResult> {
  const { records, skipped } = readPredictionsLenient(path);
  const scorable: ScoredInput[] = [];
  for (const r of records) {
    if (r.record.reference !== undefined) scorable.push(r as ScoredInput);
    else skipped.push({ line: r.line, reason: `record "${r.record.id}": no "reference" to score against` });
  }
  skipped.sort((a, b) => a.line - b.line);
  if (scorable.length === 0) throw noRecords(path, skipped);
  return scorePredictions(scorable, options, skipped);
}

function noRecords(path: string, skipped: readonly SkippedLine[]): DataError {
  const first = skipped[0];
  if (!first) {
    const why = statSync(path).size === 0 ? 'the file is empty' : 'it holds only blank lines';
    return new DataError('no-records', `${path}: no predictions to score: ${why} (one JSON object per line with "id", "prediction" and "reference")`, { location: { file: path } });
  }
  const all = skipped.length > 1 ? `, and so are the other ${skipped.length - 1} non-blank lines` : '';
  return new DataError('no-records', `${path}:${first.line}: no predictions to score: line ${first.line}: ${first.reason}${all}`, {
    location: { file: path, line: first.line },
  });
}

/** Writes metrics.json (2-space JSON) and records.jsonl into `dir`, atomically each. */
export function writeScoreOutputs(dir: string, result: ScoreResult): void {
  writeFileAtomic(join(dir, 'metrics.json'), `${JSON.stringify(result.metrics, null, 2)}\n`);
  writeFileAtomic(join(dir, 'records.jsonl'), result.records.map((r) => JSON.stringify(r)).join('\n') + (result.records.length ? '\n' : ''));
}
