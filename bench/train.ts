/**
 * `npm run bench -- train [step|kernels] [presets…]`: training throughput on ONNX Runtime CPU.
 *
 * `step` (default): for each preset (default `tiny tinyllama-1.1b`) and base (fp32, int4), builds
 * a random model and its training engine (LoRA r 16 on all 7 projections, dropout 0.05) in a
 * child process and times training steps (batch 4 × seq 256) there, then prints tokens/s,
 * achieved GFLOP/s (FLOPs counted from the shapes, src/train/flops.ts) as a share of the ORT
 * MatMul ceiling measured in the same run (the best of the step's big matmul shapes as one-op
 * graphs, before and after), and the child's peak RSS.
 *
 * `kernels`: the feasibility table — every kernel of one step at the 1.1B shape, timed alone.
 * Threads: POLYPERSONA_THREADS (default 2). Steps: POLYPERSONA_BENCH_STEPS (default 2, after one warm-up).
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LINEAR_MODULES } from '../src/model/config.js';
import { presetConfig, type PresetName } from '../src/model/presets.js';
import { trainingStepFlops } from '../src/train/flops.js';
import { loraSites } from '../src/train/lora.js';
import { timeKernel, trainingShapeCases, type KernelTiming } from './_train-kernels.js';

const here = dirname(fileURLToPath(import.meta.url));
const GB = 2 ** 30;

async function matmulCeiling(threads: number): Promise<number> {
  // The big shapes of a 1.1B step: forward Gemm(transB) and backward MatMul, on prepacked weights.
  const cases = trainingShapeCases().filter((c) => /^(fwd q\/o|fwd gate\/up|bwd dX q\/o|bwd dX gate\/up)/.test(c.name));
  let best = 0;
  for (const c of cases) best = Math.max(best, (await timeKernel(c, threads, 3)).gflops);
  return best;
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
  const ceilingBefore = await matmulCeiling(threads);
  console.log(`ORT MatMul ceiling (before): ${ceilingBefore.toFixed(1)} GFLOP/s`);
  const rows: Array<{ text: string; gflops: number }> = [];
  for (const preset of presets) {
    const cfg = presetConfig(preset);
    const sites = loraSites(cfg, { r: 16, loraAlpha: 32, loraDropout: 0.05, targetModules: [...LINEAR_MODULES] });
    const flops = trainingStepFlops(cfg, B, T, sites, 16);
    for (const base of ['int4', 'fp32']) {
      const run = child(['train', preset, base, String(B), String(T), String(steps), String(threads)], 60 * 60_000);
      const stepS = Math.min(...(run.stepSeconds as number[]));
      const gflops = flops.total / stepS / 1e9;
      const row = `${preset.padEnd(15)} ${base.padEnd(5)} step ${stepS.toFixed(2).padStart(8)} s  ${((B * T) / stepS).toFixed(1).padStart(8)} tokens/s  ${gflops.toFixed(1).padStart(6)} GFLOP/s  peak RSS ${(run.maxRssBytes / GB).toFixed(2)} GB (after load ${(run.rssAfterLoadBytes / GB).toFixed(2)} GB)  [step FLOPs ${(flops.total / 1e9).toFixed(1)} G, masks ${Math.max(...(run.maskSeconds as number[])).toFixed(2)} s, model build ${run.buildSeconds.toFixed(1)} s, engine load ${run.loadSeconds.toFixed(1)} s, loss ${run.loss.toFixed(3)}]`;
      rows.push({ text: row, gflops });
      console.log(row);
    }
  }
  const ceilingAfter = await matmulCeiling(threads);
  const ceiling = Math.max(ceilingBefore, ceilingAfter);
  console.log(`ORT MatMul ceiling (after): ${ceilingAfter.toFixed(1)} GFLOP/s; shares below use the higher of the two, ${ceiling.toFixed(1)} GFLOP/s`);
  for (const r of rows) console.log(`${r.text.slice(0, 21)} ${((100 * r.gflops) / ceiling).toFixed(0).padStart(3)}% of the MatMul ceiling`);
}
