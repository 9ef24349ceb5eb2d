/**
 * What `verify`'s comparators need of a stage's outputs when the outputs themselves are not at
 * hand (a reviewer's fresh clone has the lock file, not the author's cache): computed once when an
 * entry is published, kept in stage.json and copied into the lock file.
 *
 * - `*.safetensors` (files up to 1 GiB): per tensor, its shape, L2 norm and a random projection
 *   (Σ xᵢ·sᵢ with signs sᵢ = ±1 from a PRNG seeded by the tensor name). Two tensors a, b with
 *   ‖a − b‖ = δ have |norm(a) − norm(b)| ≤ δ and |proj(a) − proj(b)| ~ δ, so the two figures bound
 *   and estimate an element-wise deviation; a permutation or sign flip that keeps the norm moves
 *   the projection by ~‖a‖.
 * - `predictions.jsonl`: the record count, a digest of the sorted ids and, per record in id order,
 *   the first 8 hex digits of the sha256 of its prediction text (for "k of n texts identical").
 * - `metrics.json`: every numeric leaf by dotted path (`overall.bleu`, `by_domain.lifestyle.rouge1`).
 * Everything else is compared by its sha256 (the tree digest's file list).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Prng, deriveSeed } from '../../core/prng.js';
import type { TreeFile } from './digest.js';

export interface TensorSummary {
  /** e.g. "16x64" ("" for a scalar). */
  shape: string;
  norm: number;
  proj: number;
}

export interface PredictionsSummary {
  records: number;
  /** sha256 (16 hex) of the sorted record ids joined by newlines. */
  ids: string;
  /** Per record in id order, 8 hex digits of sha256(prediction), space-separated. */
  texts: string;
}

export interface OutputSummaries {
  /** File path -> tensor name -> summary. */
  tensors?: Record<string, Record<string, TensorSummary>>;
  predictions?: Record<string, PredictionsSummary>;
  /** File path -> dotted metric path -> value. */
  metrics?: Record<string, Record<string, number>>;
}

/** Larger safetensors files are compared by bytes only (reading them twice at publish would cost). */
export const MAX_SUMMARISED_TENSOR_FILE = 1 << 30;

export type OutputKind = 'tensors' | 'predictions' | 'metrics' | 'bytes';

/** The comparator a file gets, by its name. */
export function outputKind(path: string): OutputKind {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name.endsWith('.safetensors')) return 'tensors';
  if (name === 'predictions.jsonl') return 'predictions';
  if (name === 'metrics.json') return 'metrics';
  return 'bytes';
}

/** Summaries of the files of `outDir` that have a comparator; undefined when none has. */
export async function summariseOutputs(outDir: string, files: readonly TreeFile[]): Promise<OutputSummaries | undefined> {
  const out: OutputSummaries = {};
  for (const f of files) {
    const kind = outputKind(f.path);
    if (kind === 'bytes') continue;
    const abs = join(outDir, ...f.path.split('/'));
    try {
      if (kind === 'tensors' && f.size <= MAX_SUMMARISED_TENSOR_FILE) (out.tensors ??= {})[f.path] = await summariseTensors(abs);
      else if (kind === 'predictions') (out.predictions ??= {})[f.path] = summarisePredictions(await readFile(abs, 'utf8'));
      else if (kind === 'metrics') (out.metrics ??= {})[f.path] = flattenMetrics(JSON.parse(await readFile(abs, 'utf8')));
    } catch {
      // A file that does not parse as its kind (a stage's own file named predictions.jsonl) is
      // compared by bytes, like any other.
    }
  }
  return out.tensors || out.predictions || out.metrics ? out : undefined;
}

async function summariseTensors(path: string): Promise<Record<string, TensorSummary>> {
  const { readSafetensors } = await import('../../model/safetensors/read.js');
  const out: Record<string, TensorSummary> = {};
  for (const [name, t] of readSafetensors(path).tensors) out[name] = summariseTensor(name, t.shape, tensorValues(t.dtype, t.data));
  return out;
}

/** Values as numbers: floats decoded (F16/BF16 from their bit patterns), integers as they are. */
function tensorValues(dtype: string, data: ArrayLike<number> | ArrayLike<bigint>): ArrayLike<number> {
  if (dtype === 'BF16') return Float32Array.from(data as ArrayLike<number>, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]!);
  if (dtype === 'F16') return Float32Array.from(data as ArrayLike<number>, halfToFloat);
  if (dtype === 'I64') return Float64Array.from(data as ArrayLike<bigint>, (v) => Number(v));
  return data as ArrayLike<number>;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Norm and projection in float64, in element order: the same values give the same bits anywhere. */
export function summariseTensor(name: string, shape: readonly number[], values: ArrayLike<number>): TensorSummary {
  const prng = new Prng(deriveSeed(0, `verify-projection\u0000${name}`));
  let sq = 0, proj = 0, bits = 0;
  for (let i = 0; i < values.length; i++) {
    if ((i & 31) === 0) bits = prng.nextU32();
    const x = values[i]!;
    sq += x * x;
    proj += (bits >>> (i & 31)) & 1 ? x : -x;
  }
  return { shape: shape.join('x'), norm: Math.sqrt(sq), proj };
}

export function summarisePredictions(text: string): PredictionsSummary {
  const rows: Array<{ id: string; text: string }> = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { id?: unknown; prediction?: unknown };
    rows.push({ id: String(r.id), text: typeof r.prediction === 'string' ? r.prediction : JSON.stringify(r.prediction ?? null) });
  }
  rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
  return { records: rows.length, ids: sha(rows.map((r) => r.id).join('\n')).slice(0, 16), texts: rows.map((r) => sha(r.text).slice(0, 8)).join(' ') };
}

/** Numeric leaves by dotted path (array items as `[i]`); strings, booleans and nulls are left out. */
export function flattenMetrics(value: unknown, path = '', out: Record<string, number> = {}): Record<string, number> {
  if (typeof value === 'number' && Number.isFinite(value)) out[path] = value;
  else if (Array.isArray(value)) value.forEach((v, i) => flattenMetrics(v, `${path}[${i}]`, out));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) flattenMetrics(v, path ? `${path}.${k}` : k, out);
  }
  return out;
}
