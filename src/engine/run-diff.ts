/**
 * Run comparison (`polypersona diff`): what two runs of a pipeline set differently and how their
 * metrics moved. A run is seen through what it left behind — a lock file (from the working tree or
 * a git revision: per stage its key params and, in version 2, its metrics.json values) or a run
 * record of runs/history (its `-S` overrides and its metrics).
 */
import { canonicalJson } from '../core/canonical-json.js';
import type { PipelineLock, RunRecord } from './store/index.js';
import { flattenMetrics } from './store/output-summary.js';

export interface RunView {
  /** How the user named it: `HEAD`, `pipelines/smoke.lock.yaml`, `history:2 (20261203-…)`. */
  label: string;
  /** Stage id -> key params (lock files); for a run record, `overrides` -> path -> value. */
  params: Record<string, unknown>;
  /** Stage id -> dotted metric path (`overall.bleu`, `by_domain.lifestyle.rouge1`) -> value. */
  metrics: Record<string, Record<string, number>>;
}

export interface ParamChange {
  stage: string;
  /** Dotted path inside the stage's params (`with.learning_rate`). */
  path: string;
  a?: unknown;
  b?: unknown;
}

export interface MetricRow {
  stage: string;
  metric: string;
  a?: number;
  b?: number;
  /** b − a when both exist. */
  delta?: number;
}

export interface RunDiff {
  a: string;
  b: string;
  params: ParamChange[];
  metrics: MetricRow[];
}

/**
 * `normalise` maps a stage's locked params to key params (engine/key-params.ts), so that a version
 * 1 lock (every default written out) compares with a version 2 one by what was set.
 */
export function runViewOfLock(label: string, lock: PipelineLock, normalise: (type: string, params: unknown) => unknown = (_, p) => p): RunView {
  const params: Record<string, unknown> = {};
  const metrics: Record<string, Record<string, number>> = {};
  for (const [id, s] of Object.entries(lock.stages)) {
    params[id] = normalise(s.type, s.params);
    const m = s.check?.metrics?.['metrics.json'];
    if (m) metrics[id] = m;
  }
  return { label, params, metrics };
}

export function runViewOfRecord(label: string, record: RunRecord): RunView {
  const metrics: Record<string, Record<string, number>> = {};
  for (const [id, m] of Object.entries(record.metrics ?? {})) metrics[id] = flattenMetrics(m);
  return { label, params: record.overrides ? { overrides: record.overrides } : {}, metrics };
}

export function diffRuns(a: RunView, b: RunView): RunDiff {
  const params: ParamChange[] = [];
  for (const stage of union(Object.keys(a.params), Object.keys(b.params))) diffValue(stage, a.params[stage], b.params[stage], 'with', params);
  const metrics: MetricRow[] = [];
  for (const stage of union(Object.keys(a.metrics), Object.keys(b.metrics))) {
    const x = a.metrics[stage] ?? {}, y = b.metrics[stage] ?? {};
    for (const metric of metricOrder(union(Object.keys(x), Object.keys(y)))) {
      const row: MetricRow = { stage, metric, a: x[metric], b: y[metric] };
      if (row.a !== undefined && row.b !== undefined) row.delta = row.b - row.a;
      metrics.push(row);
    }
  }
  return { a: a.label, b: b.label, params, metrics };
}

/** overall first, then by_domain, by_question_type, the rest; alphabetical inside each. */
function metricOrder(names: string[]): string[] {
  const rank = (n: string): number => (n.startsWith('overall.') ? 0 : n.startsWith('by_domain.') ? 1 : n.startsWith('by_question_type.') ? 2 : 3);
  return names.sort((p, q) => rank(p) - rank(q) || (p < q ? -1 : p > q ? 1 : 0));
}

function union(a: string[], b: string[]): string[] {
  const out = [...a];
  for (const k of b) if (!a.includes(k)) out.push(k);
  return out;
}

function diffValue(stage: string, a: unknown, b: unknown, path: string, out: ParamChange[]): void {
  if (isRecord(a) && isRecord(b)) {
    for (const k of union(Object.keys(a), Object.keys(b)).sort()) diffValue(stage, a[k], b[k], `${path}.${k}`, out);
    return;
  }
  if (same(a, b)) return;
  out.push({ stage, path, ...(a === undefined ? {} : { a }), ...(b === undefined ? {} : { b }) });
}

function same(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalJson(a) === canonicalJson(b);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
