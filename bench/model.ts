/**
 * `npm run bench -- model [--skip-1b | --only-1b] [--only fp32,sym] [--prompt N] [--steps N] [--threads N]`
 *
 * Prefill and decode tokens/s and peak RSS of the llama decoder graph for the `tiny` preset and
 * the TinyLlama-1.1B shape (seeded random weights), float32 and int4 (MatMulNBits, block 32,
 * asymmetric with accuracy_level 0 and 4, symmetric with 4), next to ceilings measured in the same run:
 *   - ORT MatMul GFLOP/s (float32 [512, 2048] × [2048, 2048]) — the compute ceiling of prefill;
 *   - memory bandwidth: memcpy (STREAM "copy" convention: read + written bytes / s) and an ORT
 *     ReduceSum over 512 MB (read bytes / s). Decode reads every weight once per token, so
 *     weight bytes / decode-step time is the achieved bandwidth, and bandwidth / weight bytes
 *     the decode ceiling.
 * Each variant runs in its own child process so that peak RSS is its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Variant { name: string; file: string; weightBytes: number }
interface Measured { prefillTokensPerS: number; decodeTokensPerS: number; decodeStepMs: number; peakRssMb: number; loadS: number }

const runScript = fileURLToPath(new URL('./run.ts', import.meta.url));

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

function child(args: string[]): unknown {
  const r = spawnSync(process.execPath, ['--import', 'tsx', runScript, 'model', '--child', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`bench child ${args[0]} failed:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').at(-1)!;
  return JSON.parse(line);
}

export default async function bench(args: string[]): Promise<void> {
  if (args[0] === '--child') return childMain(args.slice(1));
  const threads = flag(args, '--threads', 2);
  const prompt = flag(args, '--prompt', 64);
  const steps = flag(args, '--steps', 16);
  const presets = args.includes('--skip-1b') ? ['tiny'] : args.includes('--only-1b') ? ['tinyllama-1.1b'] : ['tiny', 'tinyllama-1.1b'];
  // --only fp32,sym: variants whose name contains one of the words
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;

  const ceilings = (await ceilingsMain(threads)) as { memcpyGBs: number; reduceSumGBs: number; matmulGflops: number };
  console.log(`threads ${threads}; prompt ${prompt} tokens; ${steps} decode steps (batch 1)`);
  console.log(`ceilings: ORT MatMul ${ceilings.matmulGflops.toFixed(1)} GFLOP/s; memcpy ${ceilings.memcpyGBs.toFixed(2)} GB/s (read+write); ORT ReduceSum read ${ceilings.reduceSumGBs.toFixed(2)} GB/s`);
  const bandwidth = Math.max(ceilings.memcpyGBs, ceilings.reduceSumGBs);
  for (const preset of presets) {
    const dir = join(tmpdir(), `pp-bench-model-${preset}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const started = performance.now();
    const prepared = child(['prepare', preset, dir, ...(only ? [only] : [])]) as { params: number; flopsPerToken: number; variants: Variant[] };
    console.log(`\n${preset}: ${(prepared.params / 1e6).toFixed(1)} M parameters; prepared (init + export) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    console.log('variant            | onnx MB | weight MB/token | prefill tok/s | decode tok/s | decode GB/s | % of BW bound | prefill GFLOP/s | peak RSS MB | load s');
    for (const v of prepared.variants) {
      const m = child(['measure', preset, join(dir, v.file), String(threads), String(prompt), String(steps)]) as Measured;
      const gbs = (v.weightBytes / 1e9) * m.decodeTokensPerS;
      const onnxMb = fileMb(join(dir, v.file)) + fileMb(join(dir, `${v.file}_data`));
      console.log(
        `${v.name.padEnd(18)} | ${onnxMb.toFixed(0).padStart(7)} | ${(v.weightBytes / 1e6).toFixed(1).padStart(15)} | ${m.prefillTokensPerS.toFixed(1).padStart(13)} | ${m.decodeTokensPerS.toFixed(2).padStart(12)} | ${gbs.toFixed(2).padStart(11)} | ${((100 * gbs) / bandwidth).toFixed(0).padStart(12)}% | ${((prepared.flopsPerToken * m.prefillTokensPerS) / 1e9).toFixed(1).padStart(15)} | ${m.peakRssMb.toFixed(0).padStart(11)} | ${m.loadS.toFixed(1)}`,
      );
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** VmHWM of this process (getrusage's maxRSS survives fork + exec, so it would report the parent's peak). */
function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

function fileMb(path: string): number {
  try {
    return statSync(path).size / 1e6;
  } catch {
    return 0;
  }
}

async function ceilingsMain(threads: number): Promise<unknown> {
  const { GraphBuilder } = await import('../src/model/onnx/index.js');
  const { createSession, f32Tensor, loadOrt } = await import('../src/model/onnx/session.js');
  const ort = await loadOrt();
  // memcpy: 256 MB, best of 5.
  const size = 256 << 20;
  const src = Buffer.alloc(size, 1), dst = Buffer.alloc(size);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    src.copy(dst);
    best = Math.min(best, performance.now() - t);
  }
  const memcpyGBs = (2 * size) / 1e9 / (best / 1000);
  // ORT ReduceSum over 512 MB of float32: read bandwidth with the same threads as the model.
  const n = 128 << 20;
  const g = new GraphBuilder('reduce');
  const x = g.input('x', 'float32', [n]);
  g.output(g.op('ReduceSum', [x, g.constInt64([0])], { keepdims: 0 }), 'y', 'float32', []);
  const reduce = await createSession(g.toBytes(), { threads });
  const xs = new Float32Array(n).fill(1);
  best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await reduce.run({ x: f32Tensor(ort, xs, [n]) });
    best = Math.min(best, performance.now() - t);
  }
  const reduceSumGBs = (4 * n) / 1e9 / (best / 1000);
  // MatMul ceiling.
  const M = 512, K = 2048, N = 2048;
  const mg = new GraphBuilder('mm');
  const a = mg.input('a', 'float32', [M, K]);
  mg.output(mg.matMul(a, mg.initializer('b', { dtype: 'F32', shape: [K, N], data: new Float32Array(K * N).fill(0.001) })), 'y', 'float32', [M, N]);
  const mm = await createSession(mg.toBytes(), { threads });
  const feed = { a: f32Tensor(ort, new Float32Array(M * K).fill(0.5), [M, K]) };
  await mm.run(feed);
  best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await mm.run(feed);
    best = Math.min(best, performance.now() - t);
  }
  return { memcpyGBs, reduceSumGBs, matmulGflops: (2 * M * K * N) / 1e9 / (best / 1000) };
}

async function childMain(args: string[]): Promise<void> {
  const [mode, preset] = args as [string, string];
  const { presetConfig, parameterCount } = await import('../src/model/presets.js');
  const cfg = presetConfig(preset as 'tiny');
  if (mode === 'prepare') {
    const dir = args[2]!;
    const { initLlamaWeights } = await import('../src/model/init/index.js');
    const { buildDecoderGraph } = await import('../src/model/decoder/graph.js');
    const { LINEAR_MODULES, linearShape } = await import('../src/model/architectures/llama.js');
    const weights = initLlamaWeights(cfg, 1);
    const C = cfg.hiddenSize, V = cfg.vocabSize;
    const linearParams = cfg.numHiddenLayers * LINEAR_MODULES.reduce((s, m) => s + linearShape(cfg, m)[0] * linearShape(cfg, m)[1], 0);
    // Bytes read per decoded token: every linear weight, the LM head, one embedding row.
    const headBytes = V * C * 4 + C * 4;
    const variants: Variant[] = [];
    const only = args[3] ? args[3].split(',') : [];
    const wanted = (name: string) => only.length === 0 || only.some((o) => name.includes(o));
    if (wanted('fp32')) {
      buildDecoderGraph(cfg, weights).save(dir, 'fp32.onnx', { externalData: 'auto' });
      variants.push({ name: 'fp32', file: 'fp32.onnx', weightBytes: linearParams * 4 + headBytes });
    }
    for (const [symmetric, level] of [[false, 0], [false, 4], [true, 4]] as const) {
      const name = `int4 b32 ${symmetric ? 'sym' : 'asym'} acc${level}`;
      if (!wanted(name)) continue;
      const file = `${name.replaceAll(' ', '-')}.onnx`;
      buildDecoderGraph(cfg, weights, { quantization: { bits: 4, blockSize: 32, symmetric, accuracyLevel: level } }).save(dir, file, { externalData: 'auto' });
      // codes 0.5 B + a 4 B scale (and a 0.5 B zero point) per 32 weights
      variants.push({ name, file, weightBytes: linearParams * (0.5 + (symmetric ? 4 : 4.5) / 32) + headBytes });
    }
    const flopsPerToken = 2 * (linearParams + V * C);
    console.log(JSON.stringify({ params: parameterCount(cfg), flopsPerToken, variants }));
    return;
  }
  const [, , path, threadsS, promptS, stepsS] = args as [string, string, string, string, string, string];
  const threads = Number(threadsS), prompt = Math.min(Number(promptS), cfg.maxPositionEmbeddings - Number(stepsS) - 1), steps = Number(stepsS);
  const { DecoderRunner } = await import('../src/model/decoder/runner.js');
  let t = performance.now();
  const runner = await DecoderRunner.create(cfg, path, threads);
  const loadS = (performance.now() - t) / 1000;
  const ids = Array.from({ length: prompt }, (_, i) => (i * 7919) % cfg.vocabSize);
  const prefillInput = { inputIds: [ids], attentionMask: [ids.map(() => 1)], positionIds: [ids.map((_, i) => i)] };
  await runner.step(prefillInput); // warm-up
  runner.reset();
  t = performance.now();
  await runner.step(prefillInput);
  const prefillS = (performance.now() - t) / 1000;
  const mask = ids.map(() => 1);
  await runner.step({ inputIds: [[5]], attentionMask: [[...mask, 1]], positionIds: [[prompt]] }); // warm-up decode
  mask.push(1);
  t = performance.now();
  for (let s = 0; s < steps; s++) {
    mask.push(1);
    await runner.step({ inputIds: [[5 + s]], attentionMask: [mask], positionIds: [[prompt + 1 + s]] });
  }
  const decodeS = (performance.now() - t) / 1000;
  await runner.release();
  const m: Measured = { prefillTokensPerS: prompt / prefillS, decodeTokensPerS: steps / decodeS, decodeStepMs: (1000 * decodeS) / steps, peakRssMb: peakRssMb(), loadS };
  console.log(JSON.stringify(m));
}
