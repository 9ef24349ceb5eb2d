/**
 * Training checkpoints in the stage's workDir, so that a killed run resumes where it stopped and
 * ends with the same adapter as an uninterrupted run. A checkpoint is a directory
 * `checkpoint-<step>/` (adapter tensors, AdamW moments, the best adapter so far, and state.json
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
import type { LoraTensors } from './lora.js';
import type { AdamWMoments } from './optimizer.js';

export interface LogEntry {
  step: number;
  epoch: number;
  loss?: number;
  learning_rate?: number;
  grad_norm?: number;
  /** Labelled tokens in this optimizer step. */
  num_tokens?: number;
  eval_loss?: number;
}

export interface TrainerState {
  /** Optimizer steps done. */
  step: number;
  /** Identifies the run's configuration; a checkpoint of another configuration is never resumed. */
  fingerprint: string;
  logHistory: LogEntry[];
  best?: { step: number; evalLoss: number };
}

export interface Checkpoint {
  state: TrainerState;
  params: LoraTensors[];
  moments: Array<{ A: AdamWMoments; B: AdamWMoments }>;
  best?: LoraTensors[];
}

const LATEST = 'latest.json';

function tensorsOf(prefix: string, list: LoraTensors[]): Map<string, HostTensor> {
  const m = new Map<string, HostTensor>();
  list.forEach((p, i) => {
    m.set(`${prefix}.${i}.A`, { dtype: 'F32', shape: [p.A.length], data: p.A });
    m.set(`${prefix}.${i}.B`, { dtype: 'F32', shape: [p.B.length], data: p.B });
  });
  return m;
}

function listOf(prefix: string, tensors: Map<string, HostTensor>, n: number): LoraTensors[] {
  return Array.from({ length: n }, (_, i) => ({
    A: Float32Array.from(tensors.get(`${prefix}.${i}.A`)!.data as Float32Array),
    B: Float32Array.from(tensors.get(`${prefix}.${i}.B`)!.data as Float32Array),
  }));
}

export function saveCheckpoint(workDir: string, ck: Checkpoint): void {
  const name = `checkpoint-${ck.state.step}`;
  const dir = join(workDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, 'adapter.safetensors'), tensorsOf('param', ck.params));
  writeSafetensors(join(dir, 'optimizer.safetensors'), new Map([
    ...tensorsOf('m', ck.moments.map((x) => ({ A: x.A.m, B: x.B.m }))),
    ...tensorsOf('v', ck.moments.map((x) => ({ A: x.A.v, B: x.B.v }))),
  ]));
  if (ck.best) writeSafetensors(join(dir, 'best.safetensors'), tensorsOf('best', ck.best));
  writeFileAtomic(join(dir, 'state.json'), `${JSON.stringify(ck.state)}\n`);
  writeFileAtomic(join(workDir, LATEST), `${JSON.stringify({ dir: name })}\n`);
  for (const entry of readdirSync(workDir)) if (entry.startsWith('checkpoint-') && entry !== name) rmSync(join(workDir, entry), { recursive: true, force: true });
}

/** The latest complete checkpoint of this configuration, or undefined. */
export function loadCheckpoint(workDir: string, fingerprint: string, sites: number): Checkpoint | undefined {
  const pointer = join(workDir, LATEST);
  if (!existsSync(pointer)) return undefined;
  const { dir: name } = JSON.parse(readFileSync(pointer, 'utf8')) as { dir: string };
  const dir = join(workDir, name);
  if (!existsSync(join(dir, 'state.json'))) return undefined;
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as TrainerState;
  if (state.fingerprint !== fingerprint) return undefined;
  const params = listOf('param', readSafetensors(join(dir, 'adapter.safetensors')).tensors, sites);
  const opt = readSafetensors(join(dir, 'optimizer.safetensors')).tensors;
  const m = listOf('m', opt, sites), v = listOf('v', opt, sites);
  const moments = m.map((mi, i) => ({ A: { m: mi.A, v: v[i]!.A }, B: { m: mi.B, v: v[i]!.B } }));
  const best = existsSync(join(dir, 'best.safetensors')) ? listOf('best', readSafetensors(join(dir, 'best.safetensors')).tensors, sites) : undefined;
  return { state, params, moments, best };
}
