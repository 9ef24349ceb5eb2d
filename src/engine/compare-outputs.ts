/**
 * `verify`'s comparators: one stage's recomputed outputs against its lock file entry, file by
 * file, each file by its kind (store/output-summary.ts):
 * - bytes (everything else): sha256 equal, or different;
 * - tensors: same names and shapes, and per tensor |Δnorm| and |Δprojection| within
 *   TENSOR_TOLERANCE (atol + rtol·norm); the worst tensor is named;
 * - predictions: same record ids; the fraction of identical texts is reported (generated text
 *   under sampling is judged by the metrics computed from it);
 * - metrics: same metric paths, each value within its METRIC_TOLERANCE.
 * Comparators apply only where float noise may act: in a stage whose outputs are float results
 * (its definition says `reproducibility: 'float'`) or whose inputs already differ (propagated).
 * Elsewhere (pure JS on identical inputs) anything but identical bytes is different.
 */
import type { StageCheck } from './store/index.js';
import { outputKind, type PredictionsSummary, type TensorSummary } from './store/output-summary.js';

/** Relative and absolute tolerance of a tensor: |Δ| ≤ atol + rtol · norm, for the norm and the projection. */
export const TENSOR_TOLERANCE = { rtol: 1e-4, atol: 1e-6 } as const;

/**
 * Per metric (the last part of its dotted path; `default` for the rest): |Δ| ≤ abs + rel · |value|.
 * BERTScore embeds with onnxruntime float32: 1e-4 covers its reductions. Lexical scores are pure
 * JS on the texts, so a change there means a changed text; 1e-6 leaves only float formatting.
 */
export const METRIC_TOLERANCE: Readonly<Record<string, { abs: number; rel: number }>> = {
  default: { abs: 1e-6, rel: 1e-6 },
  bertscore_precision: { abs: 1e-4, rel: 0 },
  bertscore_recall: { abs: 1e-4, rel: 0 },
  bertscore_f1: { abs: 1e-4, rel: 0 },
};

export function metricTolerance(path: string): { abs: number; rel: number } {
  const name = path.slice(path.lastIndexOf('.') + 1).replace(/\[\d+\]$/, '');
  return METRIC_TOLERANCE[name] ?? METRIC_TOLERANCE.default!;
}

export interface StageComparison {
  verdict: 'identical' | 'within-tolerance' | 'different';
  /** Within tolerance: the largest deviation of each compared file, in words (`adapter_model.safetensors: worst tensor X, relative deviation 3.1e-7`). */
  largestDeviation?: string;
  /** Different: the first difference found, in words. */
  firstDifference?: string;
  /** Files whose bytes differ but that follow from compared ones (trainer_state.json, report tables) in a float or propagated stage. */
  derivedFiles?: string[];
}

export interface CompareOptions {
  /** The stage's outputs are float results of onnxruntime kernels. */
  float: boolean;
  /** An upstream stage is not identical. */
  propagated: boolean;
  /** Bitwise only (`verify --strict`). */
  strict: boolean;
}

/** Compares a stage's check data (expected: lock file; actual: the recomputed entry). */
export function compareStage(expected: StageCheck, actual: StageCheck, options: CompareOptions): StageComparison {
  const paths = [...new Set([...Object.keys(expected.files), ...Object.keys(actual.files)])].sort();
  const differing = paths.filter((p) => expected.files[p] !== actual.files[p]);
  if (differing.length === 0) return { verdict: 'identical' };
  for (const p of differing) {
    if (expected.files[p] === undefined) return { verdict: 'different', firstDifference: `${p}: not in the lock file (a new output file)` };
    if (actual.files[p] === undefined) return { verdict: 'different', firstDifference: `${p}: in the lock file, not produced now` };
  }
  const bytesDiff = (p: string): string => `${p}: sha256 ${expected.files[p]!.slice(0, 12)} -> ${actual.files[p]!.slice(0, 12)}`;
  if (options.strict) return { verdict: 'different', firstDifference: bytesDiff(differing[0]!) };
  if (!options.float && !options.propagated) {
    return { verdict: 'different', firstDifference: `${bytesDiff(differing[0]!)} (a bitwise-reproducible output whose inputs are identical)` };
  }
  const deviations: string[] = [];
  const derived: string[] = [];
  for (const p of differing) {
    const kind = outputKind(p);
    const result =
      kind === 'tensors' ? compareTensors(p, expected.tensors?.[p], actual.tensors?.[p])
      : kind === 'predictions' ? comparePredictions(p, expected.predictions?.[p], actual.predictions?.[p])
      : kind === 'metrics' ? compareMetrics(p, expected.metrics?.[p], actual.metrics?.[p])
      : undefined;
    if (result === undefined) derived.push(p);
    else if ('different' in result) return { verdict: 'different', firstDifference: result.different };
    else deviations.push(result.text);
  }
  // A file without a comparator (trainer_state.json, a report table) may differ only as a
  // consequence of a compared one: in a stage whose inputs differ, or in a float stage where a
  // compared output moved within tolerance.
  if (derived.length > 0 && !options.propagated && deviations.length === 0) {
    return { verdict: 'different', firstDifference: `${bytesDiff(derived[0]!)} (no compared output of this stage moved)` };
  }
  return {
    verdict: 'within-tolerance',
    largestDeviation: deviations.length > 0 ? deviations.join('; ') : `derived files only: ${derived.join(', ')}`,
    ...(derived.length > 0 ? { derivedFiles: derived } : {}),
  };
}

type Outcome = { different: string } | { text: string };

function compareTensors(path: string, a: Record<string, TensorSummary> | undefined, b: Record<string, TensorSummary> | undefined): Outcome {
  if (!a || !b) return { different: `${path}: bytes differ and the lock file holds no tensor summary to compare within tolerance` };
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  let worst = { name: '', rel: -1 };
  for (const name of names) {
    const x = a[name], y = b[name];
    if (!x) return { different: `${path}: tensor ${name} is new` };
    if (!y) return { different: `${path}: tensor ${name} is missing` };
    if (x.shape !== y.shape) return { different: `${path}: tensor ${name} shape ${x.shape} -> ${y.shape}` };
    const limit = TENSOR_TOLERANCE.atol + TENSOR_TOLERANCE.rtol * x.norm;
    const dev = Math.max(Math.abs(x.norm - y.norm), Math.abs(x.proj - y.proj));
    const rel = dev / Math.max(x.norm, TENSOR_TOLERANCE.atol);
    if (dev > limit) {
      return { different: `${path}: tensor ${name} deviates by ${dev.toExponential(2)} (relative ${rel.toExponential(2)}; norm ${x.norm.toPrecision(6)} -> ${y.norm.toPrecision(6)}), over the tolerance ${TENSOR_TOLERANCE.atol} + ${TENSOR_TOLERANCE.rtol}·norm` };
    }
    if (rel > worst.rel) worst = { name, rel };
  }
  return { text: `${path}: worst tensor ${worst.name}, relative deviation ${worst.rel.toExponential(2)}` };
}

function comparePredictions(path: string, a: PredictionsSummary | undefined, b: PredictionsSummary | undefined): Outcome {
  if (!a || !b) return { different: `${path}: bytes differ and the lock file holds no predictions summary` };
  if (a.records !== b.records) return { different: `${path}: ${a.records} records -> ${b.records}` };
  if (a.ids !== b.ids) return { different: `${path}: the record ids differ` };
  const x = a.texts.split(' '), y = b.texts.split(' ');
  let same = 0;
  for (let i = 0; i < x.length; i++) if (x[i] === y[i]) same++;
  const share = x.length === 0 ? 1 : same / x.length;
  return { text: `${path}: ${same} of ${x.length} texts identical (${(100 * share).toFixed(1)} %)` };
}

function compareMetrics(path: string, a: Record<string, number> | undefined, b: Record<string, number> | undefined): Outcome {
  if (!a || !b) return { different: `${path}: bytes differ and the lock file holds no metrics to compare within tolerance` };
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  let worst = { name: '', delta: 0, rel: -1 };
  for (const name of names) {
    const x = a[name], y = b[name];
    if (x === undefined) return { different: `${path}: metric ${name} is new (${y})` };
    if (y === undefined) return { different: `${path}: metric ${name} is missing (was ${x})` };
    const tol = metricTolerance(name);
    const delta = y - x;
    const limit = tol.abs + tol.rel * Math.abs(x);
    if (Math.abs(delta) > limit) return { different: `${path}: metric ${name} ${x} -> ${y} (Δ ${delta.toExponential(2)}, tolerance ${limit.toExponential(2)})` };
    const rel = limit > 0 ? Math.abs(delta) / limit : 0;
    if (rel > worst.rel) worst = { name, delta, rel };
  }
  return { text: `${path}: largest metric delta ${worst.name} ${worst.delta.toExponential(2)} (${(100 * worst.rel).toFixed(0)} % of its tolerance)` };
}
