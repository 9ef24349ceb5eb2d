/**
 * Child process of `npm run bench -- train`: builds a random model of a preset shape (fp32, or
 * int4 quantized tensor by tensor as the stage's loader does), creates the training step
 * (src/train/step) and times training steps: forward, backward and the optimizer step as the
 * trainer runs it (scale, norm, clip, AdamW). LoRA (r 16 on 7 projections) or full fine-tuning
 * (a float base). One process per (preset, base, trainable), so that each peak RSS is its own.
 * Prints one JSON line.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Prng } from '../src/core/prng.js';
import { LINEAR_MODULES, linearPath, linearShape } from '../src/model/architectures/llama.js';
import type { LlamaConfig } from '../src/model/config.js';
import { initLlamaWeight } from '../src/model/init/index.js';
import { presetConfig, type PresetName } from '../src/model/presets.js';
import { quantizeNBits, type NBitsWeight } from '../src/model/quantize/nbits.js';
import { toFloat32, type HostTensor } from '../src/model/tensor.js';
import { dropoutMasks } from '../src/train/dropout.js';
import { createTrainingStep, type BaseModel, type TokenBatch, type Trainable } from '../src/train/step/index.js';
import { adamWMoments, clipAndUpdate, scaleAndNorm } from '../src/train/optimizer.js';
import { initLora, loraSites, type LoraConfig } from '../src/train/lora.js';

/**
 * The MatMul ceiling (GFLOP/s), measured by bench/_ceiling.ts in a separate process started once,
 * before the model is built ({@link startCeilingMeter}): this process must not fork between timed
 * steps, or each step pays a copy-on-write fault on every page it writes afterwards.
 */
export interface CeilingMeter { measure(): Promise<number>; close(): void }

export function startCeilingMeter(threads: number): CeilingMeter {
  if (process.env.POLYPERSONA_BENCH_CEILINGS === '0') return { measure: async () => 0, close: () => {} }; // A/B runs of the step alone
  const script = join(dirname(fileURLToPath(import.meta.url)), '_ceiling.ts');
  const meter = spawn(process.execPath, ['--import', 'tsx', script, String(threads), 'serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: meter.stdout })[Symbol.asyncIterator]();
  return {
    async measure() {
      meter.stdin.write('measure\n');
      const next = await lines.next();
      if (next.done) throw new Error('bench: the ceiling meter (bench/_ceiling.ts serve) exited');
      return (JSON.parse(next.value) as { gflops: number }).gflops;
    },
    close() { meter.stdin.end('quit\n'); },
  };
}

export const BENCH_LORA: LoraConfig = { r: 16, lora_alpha: 32, lora_dropout: Number(process.env.POLYPERSONA_BENCH_DROPOUT ?? 0.05), target_modules: [...LINEAR_MODULES] };

/** The preset's shape; POLYPERSONA_BENCH_LAYERS overrides the layer count (memory-per-layer probes). */
function benchConfig(preset: PresetName): LlamaConfig {
  const cfg = presetConfig(preset);
  const layers = Number(process.env.POLYPERSONA_BENCH_LAYERS ?? 0);
  return layers > 0 ? { ...cfg, numHiddenLayers: layers } : cfg;
}

function randomBase(cfg: LlamaConfig, quant: boolean): BaseModel {
  const weights = new Map<string, HostTensor>();
  const quantized = new Map<string, NBitsWeight>();
  const seed = 1;
  const plain = (name: string, shape: number[]) => weights.set(name, initLlamaWeight(name, shape, seed));
  plain('model.embed_tokens.weight', [cfg.vocabSize, cfg.hiddenSize]);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    plain(`model.layers.${l}.input_layernorm.weight`, [cfg.hiddenSize]);
    plain(`model.layers.${l}.post_attention_layernorm.weight`, [cfg.hiddenSize]);
    for (const m of LINEAR_MODULES) {
      const path = linearPath(l, m);
      const shape = linearShape(cfg, m);
      const w = initLlamaWeight(`${path}.weight`, shape, seed);
      if (quant) quantized.set(path, quantizeNBits(toFloat32(w), shape[0], shape[1], { bits: 4, blockSize: 32, symmetric: true }));
      else weights.set(`${path}.weight`, w);
    }
  }
  plain('model.norm.weight', [cfg.hiddenSize]);
  if (!cfg.tieWordEmbeddings) plain('lm_head.weight', [cfg.vocabSize, cfg.hiddenSize]);
  return { config: cfg, weights, quantized: quant ? quantized : undefined };
}

async function train(preset: PresetName, quant: boolean, B: number, T: number, steps: number, threads: number, kind: 'lora' | 'full'): Promise<Record<string, unknown>> {
  const meter = startCeilingMeter(threads); // forks now, while this process is small
  const cfg: LlamaConfig = benchConfig(preset);
  const sites = loraSites(cfg, BENCH_LORA);
  const t0 = performance.now();
  const base = randomBase(cfg, quant);
  const buildSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const lora = initLora(sites, BENCH_LORA.r, 5);
  // POLYPERSONA_BENCH_SAVE_PROBS=0/1 overrides the step's choice of saving the attention probabilities (A/B runs).
  const probsEnv = process.env.POLYPERSONA_BENCH_SAVE_PROBS;
  const saveProbs = probsEnv === undefined ? {} : { saveAttentionProbs: probsEnv === '1' };
  const trainable: Trainable = kind === 'lora' ? { kind: 'lora', lora: BENCH_LORA, sites, params: lora } : { kind: 'full' };
  // POLYPERSONA_BENCH_ENGINE=layerwise/whole-model forces the step's engine (A/B runs; default: createTrainingStep's choice).
  const engineChoice = (process.env.POLYPERSONA_BENCH_ENGINE ?? 'auto') as 'auto' | 'layerwise' | 'whole-model';
  const engine = await createTrainingStep({ base, trainable, maxPositions: T + 1, threads, consumeBase: true, profilePrefix: process.env.POLYPERSONA_BENCH_PROFILE, engine: engineChoice, ...saveProbs });
  // The optimizer step as the trainer runs it (one micro-batch): g / tokens, global norm, clipping to 1, AdamW.
  const params = engine.parameters();
  const moments = params.map((p) => adamWMoments(p.data.length));
  const decay = params.map((p) => p.decay);
  const adamw = { adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8, weight_decay: 0 };
  const loadSeconds = (performance.now() - t1) / 1000;
  const rssAfterLoad = process.memoryUsage().rss;
  const prng = new Prng(3);
  const N = B * T;
  const ids = Array.from({ length: N }, () => 3 + prng.int(cfg.vocabSize - 3));
  const batch: TokenBatch = {
    B, T,
    inputIds: BigInt64Array.from(ids.map(BigInt)),
    attentionMask: new BigInt64Array(N).fill(1n),
    labels: BigInt64Array.from(ids.map((_, i) => ((i + 1) % T === 0 ? -100n : BigInt(ids[i + 1]!)))),
    tokens: N - B,
  };
  const stepSeconds: number[] = [];
  const phases: unknown[] = [];
  const ceilings: number[] = [];
  const maskSeconds: number[] = [];
  let loss = 0;
  for (let s = 0; s <= steps; s++) {
    if (s > 0) ceilings.push(await meter.measure()); // before each timed step, in the same conditions
    // The step as the trainer runs it: dropout masks drawn (PyTorch's dropout is inside its step too), forward + backward, optimizer.
    const ts = performance.now();
    const cpu0 = process.cpuUsage();
    const tm = performance.now();
    const masks = kind === 'lora' && BENCH_LORA.lora_dropout > 0 ? dropoutMasks(sites.map((x) => x.inDim), N, BENCH_LORA.lora_dropout, 9, s, 0) : undefined;
    maskSeconds.push((performance.now() - tm) / 1000);
    const out = await engine.run(batch, masks);
    const to = performance.now();
    const norm = scaleAndNorm(out.grads, batch.tokens);
    clipAndUpdate(params.map((p) => p.data), out.grads, moments, decay, norm, 1, s + 1, 1e-4, adamw);
    const optimizer = (performance.now() - to) / 1000;
    const cpu = process.cpuUsage(cpu0);
    loss = out.lossSum / batch.tokens;
    if (s > 0) {
      stepSeconds.push((performance.now() - ts) / 1000); // step 0 warms up
      phases.push({ ...out.seconds, optimizer, cpuUser: cpu.user / 1e6, cpuSystem: cpu.system / 1e6 });
    }
  }
  ceilings.push(await meter.measure());
  meter.close();
  await engine.release();
  return { phase: 'train', phases, ceilings, buildSeconds, loadSeconds, stepSeconds, maskSeconds, loss, rssAfterLoadBytes: rssAfterLoad, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
}

const [mode, preset, base, b, t, steps, threads, kind] = process.argv.slice(2);
if (mode === 'train') console.log(JSON.stringify(await train(preset as PresetName, base === 'int4', Number(b), Number(t), Number(steps), Number(threads), kind === 'full' ? 'full' : 'lora')));
