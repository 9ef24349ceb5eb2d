/**
 * Child process of `npm run bench -- train`: `prepare` builds a random model of a preset shape
 * (fp32 or int4) and saves its LoRA training graph with external data; `train` loads that graph
 * into one ONNX Runtime session and times training steps. Separate processes so that each peak
 * RSS is its own. Prints one JSON line.
 */
import { mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Prng } from '../src/core/prng.js';
import { LINEAR_MODULES, linearPath, linearShape, type LlamaConfig } from '../src/model/config.js';
import { initLlamaWeight } from '../src/model/init/index.js';
import { presetConfig, type PresetName } from '../src/model/presets.js';
import { quantizeNBits, type NBitsWeight } from '../src/model/quantize/nbits.js';
import { toFloat32, type HostTensor } from '../src/model/tensor.js';
import { dropoutMasks } from '../src/train/dropout.js';
import { buildTrainingGraph } from '../src/train/graph.js';
import { initLora, loraSites, type LoraConfig } from '../src/train/lora.js';
import { TrainingSession, type TokenBatch } from '../src/train/session.js';

export const BENCH_LORA: LoraConfig = { r: 16, loraAlpha: 32, loraDropout: Number(process.env.POLYPERSONA_BENCH_DROPOUT ?? 0.05), targetModules: [...LINEAR_MODULES] };

/** The preset's shape; POLYPERSONA_BENCH_LAYERS overrides the layer count (memory-per-layer probes). */
function benchConfig(preset: PresetName): LlamaConfig {
  const cfg = presetConfig(preset);
  const layers = Number(process.env.POLYPERSONA_BENCH_LAYERS ?? 0);
  return layers > 0 ? { ...cfg, numHiddenLayers: layers } : cfg;
}

function prepare(preset: PresetName, quant: boolean, dir: string, T: number): Record<string, unknown> {
  const t0 = performance.now();
  const cfg = benchConfig(preset);
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
  const sites = loraSites(cfg, BENCH_LORA);
  const tg = buildTrainingGraph({ config: cfg, weights, quantized: quant ? quantized : undefined }, { lora: BENCH_LORA, sites, maxPositions: T + 1 });
  mkdirSync(dir, { recursive: true });
  const saved = tg.graph.save(dir, 'train.onnx', { externalData: true });
  return { phase: 'prepare', seconds: (performance.now() - t0) / 1000, bytes: saved.bytes, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
}

async function train(preset: PresetName, dir: string, B: number, T: number, steps: number, threads: number): Promise<Record<string, unknown>> {
  const cfg: LlamaConfig = benchConfig(preset);
  const sites = loraSites(cfg, BENCH_LORA);
  const names = {
    loraInputs: sites.map((s) => ({ A: `lora.${s.path}.A`, B: `lora.${s.path}.B`, mask: BENCH_LORA.loraDropout > 0 ? `mask.${s.path}` : undefined })),
    gradOutputs: sites.map((s) => ({ A: `grad.${s.path}.A`, B: `grad.${s.path}.B` })),
  };
  const t0 = performance.now();
  const session = await TrainingSession.create(`${dir}/train.onnx`, names, sites, BENCH_LORA.r, threads, { memoryArena: process.env.POLYPERSONA_BENCH_ARENA === '1', memoryPattern: process.env.POLYPERSONA_BENCH_MEMPATTERN !== '0' });
  const loadSeconds = (performance.now() - t0) / 1000;
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
  const lora = initLora(sites, BENCH_LORA.r, 5);
  const stepSeconds: number[] = [];
  const maskSeconds: number[] = [];
  let loss = 0;
  for (let s = 0; s <= steps; s++) {
    const tm = performance.now();
    const masks = BENCH_LORA.loraDropout > 0 ? dropoutMasks(sites.map((x) => x.inDim), N, BENCH_LORA.loraDropout, 9, s, 0) : undefined;
    maskSeconds.push((performance.now() - tm) / 1000);
    const ts = performance.now();
    const out = await session.step(batch, lora, masks);
    loss = out.lossSum / batch.tokens;
    if (s > 0) stepSeconds.push((performance.now() - ts) / 1000); // step 0 warms up
  }
  await session.release();
  return { phase: 'train', loadSeconds, stepSeconds, maskSeconds, loss, rssAfterLoadBytes: rssAfterLoad, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
}

const [mode, preset, arg2, dir, b, t, steps, threads] = process.argv.slice(2);
if (mode === 'prepare') console.log(JSON.stringify(prepare(preset as PresetName, arg2 === 'int4', dir!, Number(t))));
else if (mode === 'train') console.log(JSON.stringify(await train(preset as PresetName, dir!, Number(b), Number(t), Number(steps), Number(threads))));
