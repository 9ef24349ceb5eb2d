/**
 * What every interop test file shares: the venv from global-setup (or the reason it is missing),
 * running the suite's Python scripts and the project's CLI, temp folders, error measures.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inject } from 'vitest';

export const PY_DIR = fileURLToPath(new URL('./py/', import.meta.url));
export const ARCHITECTURES_FILE = fileURLToPath(new URL('./architectures.json', import.meta.url));
const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** The venv's python, or undefined with the reason (every test of the file is then skipped). */
export function interopPython(): { python?: string; skipReason: string } {
  const env = inject('interopPython');
  return 'skip' in env ? { skipReason: `interop skipped: ${env.skip}` } : { python: env.python, skipReason: '' };
}

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runProcess(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Runs test/interop/py/SCRIPT with the venv's python, offline (HF_HUB_OFFLINE, its own HF_HOME
 * under `cwd`), and throws with the script's stderr when it fails.
 */
export async function runPython(python: string, script: string, args: string[], cwd: string): Promise<ProcessResult> {
  const result = await runProcess(python, [join(PY_DIR, script), ...args], cwd, {
    HF_HUB_OFFLINE: '1',
    TRANSFORMERS_OFFLINE: '1',
    HF_HOME: join(cwd, '.hf-home'),
    TOKENIZERS_PARALLELISM: 'false',
    PYTHONHASHSEED: '0',
    PYTHONPATH: PY_DIR,
    TRANSFORMERS_VERBOSITY: 'error',
  });
  if (result.code !== 0) throw new Error(`${script} ${args.join(' ')} exited ${result.code}:\n${result.stderr.slice(-4000)}`);
  return result;
}

/** The project's CLI (from source, through tsx) in `cwd`; throws with its output when it fails. */
export async function runCli(args: string[], cwd: string): Promise<ProcessResult> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const result = await runProcess(process.execPath, ['--import', tsx, CLI_MAIN, ...args], cwd, { CI: '1' });
  if (result.code !== 0) throw new Error(`polypersona ${args.join(' ')} exited ${result.code}:\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`);
  return result;
}

export function makeTempDir(label: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `pp-interop-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/**
 * max |ours − ref| / max |ref| over the rows' real (unpadded) positions of [B, T, V] logits: the
 * error relative to the logits' scale (element-wise relative error is meaningless near zero).
 */
export function maxRelativeError(ours: Float32Array, ref: Float32Array, dims: readonly number[], mask: number[][]): number {
  const [B, T, V] = dims as [number, number, number];
  let diff = 0;
  let scale = 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      if (mask[b]![t] !== 1) continue;
      for (let v = 0; v < V; v++) {
        const i = (b * T + t) * V + v;
        diff = Math.max(diff, Math.abs(ours[i]! - ref[i]!));
        scale = Math.max(scale, Math.abs(ref[i]!));
      }
    }
  return diff / scale;
}

/** Wall time of each step, for the breakdown a file prints at its end. */
export class StepTimes {
  private readonly steps: Array<[string, number]> = [];

  async time<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.steps.push([label, (performance.now() - started) / 1000]);
    }
  }

  toString(): string {
    return this.steps.map(([label, s]) => `${label} ${s.toFixed(1)} s`).join(', ');
  }
}
