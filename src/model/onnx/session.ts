/**
 * onnxruntime-node sessions with the project's settings. onnxruntime-node is loaded lazily
 * (`loadOrt()`), so importing this module costs nothing until a session is made.
 *
 * Determinism: with a fixed intra-op thread count and sequential execution the CPU kernels give
 * the same results run to run on the same machine; a different thread count may change float
 * reductions in the last bits (recorded in provenance by the stages).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import type { HostTensor } from '../tensor.js';
import { ELEM_OF_DTYPE } from './dtype.js';
import type { GraphBuilder } from './builder.js';
import { InternalError } from '../../core/errors.js';

export type OrtModule = typeof Ort;
export type InferenceSession = Ort.InferenceSession;
export type OrtTensor = Ort.Tensor;

let ortPromise: Promise<OrtModule> | undefined;

/** The onnxruntime-node module, imported on first use. */
export function loadOrt(): Promise<OrtModule> {
  ortPromise ??= import('onnxruntime-node').then((m) => ((m as unknown as { default?: OrtModule }).default ?? m) as OrtModule);
  return ortPromise;
}

export interface SessionSettings {
  /** Intra-op threads (ctx.threads). */
  threads: number;
  /** Graph optimizations; default 'all'. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * The intra-op workers spin between kernels (ORT's default, true). Off where several sessions
   * run in turn on few cores: each session has its own pool, and a finished session's workers
   * keep spinning while the next one runs (see the training step, layerwise-step.ts).
   */
  spinning?: boolean;
}

export function sessionOptions(settings: SessionSettings): Ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: Math.max(1, Math.floor(settings.threads)),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: settings.optimization ?? 'all',
    enableCpuMemArena: true,
    logSeverityLevel: 3,
    ...(settings.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
  };
}

/** A session from model bytes or a path (a path is needed when the model has external data). */
export async function createSession(model: Uint8Array | string, settings: SessionSettings): Promise<InferenceSession> {
  const ort = await loadOrt();
  const opts = sessionOptions(settings);
  return typeof model === 'string' ? ort.InferenceSession.create(model, opts) : ort.InferenceSession.create(model, opts);
}

/** An ORT tensor viewing a host tensor's data (F16/BF16 not supported here). */
export function toOrtTensor(ort: OrtModule, t: HostTensor): OrtTensor {
  const type = ELEM_OF_DTYPE[t.dtype];
  if (type === 'float16' || type === 'bfloat16') throw new InternalError(`toOrtTensor: ${type} inputs are not supported`);
  return new ort.Tensor(type as 'float32', t.data as Float32Array, t.shape);
}

/** A float32 ORT tensor. */
export function f32Tensor(ort: OrtModule, data: Float32Array, dims: number[]): OrtTensor {
  return new ort.Tensor('float32', data, dims);
}

/** An int64 ORT tensor from plain numbers. */
export function i64Tensor(ort: OrtModule, values: ArrayLike<number>, dims: number[]): OrtTensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return new ort.Tensor('int64', data, dims);
}

/**
 * A session for an in-memory graph: from bytes when it fits in one protobuf, else saved with
 * external data under `scratchDir` and loaded from there.
 */
export async function sessionFromGraph(graph: GraphBuilder, settings: SessionSettings, scratchDir?: string, inlineLimit = 1_900_000_000): Promise<InferenceSession> {
  const total = graph.initializers.reduce((s, t) => s + t.bytes.byteLength, 0);
  if (total < inlineLimit) return createSession(graph.toBytes(), settings);
  // Without a scratch dir: a temp dir, removed once onnxruntime has read (or mapped) the files.
  const dir = scratchDir ?? mkdtempSync(join(tmpdir(), 'pp-onnx-'));
  try {
    const saved = graph.save(dir, `${graph.name}.onnx`, { externalData: true });
    return await createSession(saved.modelPath, settings);
  } finally {
    if (!scratchDir) rmSync(dir, { recursive: true, force: true });
  }
}
