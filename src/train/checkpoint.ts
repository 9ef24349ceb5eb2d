/**
 * Training checkpoints in the stage's workDir, so that a killed run resumes where it stopped and
 * ends with the same adapter as an uninterrupted run. A checkpoint is a directory
 * `checkpoint-<step>/` (trained tensors, AdamW moments, the best tensors so far, and state.json
 * written last); `latest.json`, replaced atomically after the directory is complete, points at
 * it. A crash mid-write leaves an unreferenced directory that the next save removes. No PRNG
 * state is stored because every random draw (data order, dropout masks) is named by (seed,
 * epoch | step, micro-batch), so the optimizer step alone says where to continue.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { readSafetensors, writeSafetensors } from '../model/safetensors/index.js';
import type { HostTensor } from '../model/tensor.js';
import type { AdamWMoments } from './optimizer.js';
import { InternalError } from '../core/errors.js';

export interface LogEntry {
  step: number;
  epoch: number;
  loss?: number;
  learning_rate?: number;
  grad_norm?: number;
  /** Labelled tokens in this optimizer step. */
  num_tokens?: number;
  eval_loss?: number;
  /** MoE with output_router_logits: the step's mean load-balancing loss (unweighted; `loss` includes router_aux_loss_coef × it, as transformers' does). */
  aux_loss?: number;
  /** Optional generation metrics on a val sample (eval_bleu, eval_rougeL; lora-train's eval_metrics_samples). */
  [metric: `eval_${string}`]: number | undefined;
}

export interface TrainerState {
  /** Optimizer steps done. */
  step: number;
  /** Identifies the run's configuration; a checkpoint of another configuration is never resumed. */
  fingerprint: string;
  logHistory: LogEntry[];
  best?: { step: number; evalLoss: number };
}

/** The trained tensors as one flat list (LoRA: A₀, B₀, A₁, …; full fine-tuning: every weight). */
export interface Checkpoint {
  state: TrainerState;
  params: Float32Array[];
  moments: AdamWMoments[];
  best?: Float32Array[];
}

const LATEST = 'latest.json';

function tensorsOf(prefix: string, list: Float32Array[]): Map<string, HostTensor> {
  return new Map(list.map((data, i) => [`${prefix}.${i}`, { dtype: 'F32', shape: [data.length], data }]));
}

function listOf(prefix: string, tensors: Map<string, HostTensor>, n: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => {
    const t = tensors.get(`${prefix}.${i}`);
    if (!t) throw new InternalError(`checkpoint: tensor ${prefix}.${i} is missing`);
    return Float32Array.from(t.data as Float32Array);
  });
}

export function saveCheckpoint(workDir: string, ck: Checkpoint): void {
  const name = `checkpoint-${ck.state.step}`;
  const dir = join(workDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, 'params.safetensors'), tensorsOf('param', ck.params));
  writeSafetensors(join(dir, 'optimizer.safetensors'), new Map([...tensorsOf('m', ck.moments.map((x) => x.m)), ...tensorsOf('v', ck.moments.map((x) => x.v))]));
  if (ck.best) writeSafetensors(join(dir, 'best.safetensors'), tensorsOf('best', ck.best));
  writeFileAtomic(join(dir, 'state.json'), `${JSON.stringify(ck.state)}\n`);
  writeFileAtomic(join(workDir, LATEST), `${JSON.stringify({ dir: name })}\n`);
  for (const entry of readdirSync(workDir)) if (entry.startsWith('checkpoint-') && entry !== name) rmSync(join(workDir, entry), { recursive: true, force: true });
}

/** The latest complete checkpoint of this configuration (`count` trained tensors), or undefined. */
export function loadCheckpoint(workDir: string, fingerprint: string, count: number): Checkpoint | undefined {
  const pointer = join(workDir, LATEST);
  if (!existsSync(pointer)) return undefined;
  const { dir: name } = JSON.parse(readFileSync(pointer, 'utf8')) as { dir: string };
  const dir = join(workDir, name);
  if (!existsSync(join(dir, 'state.json'))) return undefined;
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as TrainerState;
  if (state.fingerprint !== fingerprint) return undefined;
  const params = listOf('param', readSafetensors(join(dir, 'params.safetensors')).tensors, count);
  const opt = readSafetensors(join(dir, 'optimizer.safetensors')).tensors;
  const m = listOf('m', opt, count), v = listOf('v', opt, count);
  const moments = m.map((mi, i) => ({ m: mi, v: v[i]! }));
  const best = existsSync(join(dir, 'best.safetensors')) ? listOf('best', readSafetensors(join(dir, 'best.safetensors')).tensors, count) : undefined;
  return { state, params, moments, best };
}
