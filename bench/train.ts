/**
 * `npm run bench -- train [step|kernels] [presets…]`: training throughput on ONNX Runtime CPU.
 *
 * `step` (default): for each preset (default `tiny tinyllama-1.1b`) and base (fp32, int4), builds
 * a random model and its training engine (LoRA r 16 on all 7 projections, dropout 0.05) in a
 * child process and times training steps (batch 4 × seq 256) there, then prints tokens/s,
 * achieved GFLOP/s (FLOPs counted from the shapes, src/train/flops.ts) as a share of the ORT
 * MatMul ceiling (the best of the step's big matmul shapes as one-op graphs, bench/_ceiling.ts),
 * measured before the run, before each timed step, after it and after the run: shares are given
 * against the best ceiling of the whole run (conservative), against the higher of the two
 * measured around the step, and against the rate the same shapes sustain when run back to back
 * for as long as a step. And the child's peak RSS.
 *
 * `kernels`: the feasibility table — every kernel of one step at the 1.1B shape, timed alone.
 * Threads: POLYPERSONA_THREADS (default 2). Steps: POLYPERSONA_BENCH_STEPS (default 2, after one warm-up).
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LINEAR_MODULES } from '../src/model/architectures/llama.js';
import { presetConfig, type PresetName } from '../src/model/presets.js';
import { trainingStepFlops } from '../src/train/flops.js';
import { loraSites } from '../src/train/lora.js';
import { timeKernel, trainingShapeCases, type KernelTiming } from './_train-kernels.js';

const here = dirname(fileURLToPath(import.meta.url));
const GB = 2 ** 30;

/** Best-of-3 burst rate of the step's big matmul shapes; with `sustainSeconds`, their average rate run back to back that long. */
function matmulCeiling(threads: number, sustainSeconds = 0): number {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(here, '_ceiling.ts'), String(threads), String(sustainSeconds)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return (JSON.parse(out.trim().split('\n').pop()!) as { gflops: number }).gflops;
}

function child(args: string[], timeoutMs: number): Record<string, any> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(here, '_train-step.ts'), ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!);
}

export default async function bench(args: string[]): Promise<void> {
  const threads = Number(process.env.POLYPERSONA_THREADS ?? 2);
  const mode = args[0] ?? 'step';
  if (mode === 'kernels') {
    console.log(`ONNX Runtime CPU kernels at the 1.1B training shapes, ${threads} threads, ${cpus()[0]?.model ?? 'cpu'}`);
    const rows: KernelTiming[] = [];
    for (const c of trainingShapeCases()) {
      const t = await timeKernel(c, threads);
      rows.push(t);
      console.log(`${t.name.padEnd(58)} ${t.ms.toFixed(2).padStart(9)} ms ${t.gflops > 0 ? `${t.gflops.toFixed(1).padStart(7)} GFLOP/s` : `${t.gbps.toFixed(1).padStart(7)} GB/s`}`);
    }
    console.log(`MatMul ceiling (best matmul above): ${Math.max(...rows.map((r) => r.gflops)).toFixed(1)} GFLOP/s`);
    return;
  }
  if (mode !== 'step') throw new Error(`bench train: unknown mode "${mode}" (step, kernels)`);
  const presets = (args.length > 1 ? args.slice(1) : ['tiny', 'tinyllama-1.1b']) as PresetName[];
  const steps = Number(process.env.POLYPERSONA_BENCH_STEPS ?? 2);
  const B = 4, T = 256;
  console.log(`LoRA training step, batch ${B} × seq ${T}, r 16 on ${LINEAR_MODULES.length} projections, dropout 0.05, ${threads} threads, ${cpus()[0]?.model ?? 'cpu'}`);
  const ceilings = [matmulCeiling(threads)];
  console.log(`ORT MatMul ceiling (before): ${ceilings[0]!.toFixed(1)} GFLOP/s`);
  const rows: Array<{ label: string; gflops: number; local: number; sustained: number; sustainSeconds: number }> = [];
  for (const preset of presets) {
    const cfg = presetConfig(preset);
    const sites = loraSites(cfg, { r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: [...LINEAR_MODULES] });
    const flops = trainingStepFlops(cfg, B, T, sites, 16);
    for (const base of ['int4', 'fp32']) {
      const run = child(['train', preset, base, String(B), String(T), String(steps), String(threads)], 60 * 60_000);
      const stepSeconds = run.stepSeconds as number[];
      const around = run.ceilings as number[]; // before each timed step, and after the last
      ceilings.push(...around);
      const best = stepSeconds.indexOf(Math.min(...stepSeconds));
      const stepS = stepSeconds[best]!;
      const gflops = flops.total / stepS / 1e9;
      const local = Math.max(around[best]!, around[best + 1]!);
      const ph = (run.phases as Array<Record<string, number>>)[best]!;
      const label = `${preset.padEnd(15)} ${base.padEnd(5)}`;
      // The same shapes run back to back for as long as a step (at least 10 s): the rate the cores sustain.
      const sustainSeconds = Math.max(10, Math.round(stepS));
      const sustained = matmulCeiling(threads, sustainSeconds);
      rows.push({ label, gflops, local, sustained, sustainSeconds });
      console.log(`${label} step ${stepS.toFixed(2).padStart(8)} s  ${((B * T) / stepS).toFixed(1).padStart(8)} tokens/s  ${gflops.toFixed(1).padStart(6)} GFLOP/s  peak RSS ${(run.maxRssBytes / GB).toFixed(2)} GB (after load ${(run.rssAfterLoadBytes / GB).toFixed(2)} GB)`);
      console.log(`${' '.repeat(21)} [forward ${ph.forward!.toFixed(1)} s, backward ${ph.backward!.toFixed(1)} s, head ${ph.head!.toFixed(1)} s, host ${ph.host!.toFixed(1)} s; CPU ${(ph.cpuUser! + ph.cpuSystem!).toFixed(1)} s (system ${ph.cpuSystem!.toFixed(1)} s); ceiling around the step ${around[best]!.toFixed(1)} / ${around[best + 1]!.toFixed(1)} GFLOP/s; step FLOPs ${(flops.total / 1e9).toFixed(1)} G, masks ${Math.max(...(run.maskSeconds as number[])).toFixed(2)} s, model build ${run.buildSeconds.toFixed(1)} s, engine load ${run.loadSeconds.toFixed(1)} s, loss ${run.loss.toFixed(3)}]`);
    }
  }
  ceilings.push(matmulCeiling(threads));
  const ceiling = Math.max(...ceilings);
  console.log(`ORT MatMul ceiling (after): ${ceilings[ceilings.length - 1]!.toFixed(1)} GFLOP/s; all ceilings this run: ${ceilings.map((c) => c.toFixed(1)).join(', ')}`);
  for (const r of rows) {
    console.log(`${r.label} ${((100 * r.gflops) / ceiling).toFixed(0).padStart(3)}% of the run's best ceiling (${ceiling.toFixed(1)} GFLOP/s); ${((100 * r.gflops) / r.local).toFixed(0).padStart(3)}% of the ceiling measured around the step (${r.local.toFixed(1)}); ${((100 * r.gflops) / r.sustained).toFixed(0).padStart(3)}% of the sustained rate (${r.sustained.toFixed(1)} GFLOP/s over ${r.sustainSeconds} s)`);
  }
}
