import { existsSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../src/core/atomic.js';
import { hashJson } from '../../src/core/canonical-json.js';
import { UserError } from '../../src/core/errors.js';
import type { StageContext } from '../../src/engine/contract.js';
import { readQuantizationConfig } from '../../src/model/llama/export.js';
import { readPeftAdapter } from '../../src/model/generate/adapter.js';
import { inspectModelDir, writeModelDir } from '../../src/model/model-dir.js';
import { toFloat32 } from '../../src/model/tensor.js';
import { loadTokenizer, readTokenizerFiles } from '../../src/model/tokenizer/index.js';
import { writeAdapter } from '../../src/train/adapter.js';
import { loadBaseModel } from '../../src/train/base.js';
import { encodeRecords, requireExamples, type ChatTokenizer, type ChatRecord } from '../../src/train/data.js';
import { chatmlSplitFile, readChatmlSplit } from '../../src/formats/chatml.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../../src/formats/peft-adapter.js';
import { trainingStepFlops } from '../../src/train/flops.js';
import { lossCurveSvg } from '../../src/train/loss-curve.js';
import { initLora, loraSites, resolveTargetModules, type LoraConfig, type LoraSite, type LoraTensors } from '../../src/train/lora.js';
import { estimateTrainingMemory } from '../../src/train/memory.js';
import { plannedSteps, train } from '../../src/train/trainer.js';
import { generationMetrics } from './eval-metrics.js';
import type { LoraTrainParams } from './params.js';

const GB = 2 ** 30;

export async function runLoraTrain(ctx: StageContext<LoraTrainParams>): Promise<void> {
  const p = ctx.params;
  const seed = p.seed ?? ctx.seed;
  const modelRef = ctx.input('model', { transitive: true });
  const chatmlRef = ctx.input('chatml');
  const lora: LoraConfig = { r: p.r, loraAlpha: p.lora_alpha, loraDropout: p.lora_dropout, targetModules: resolveTargetModules(p.target_modules) };

  // 1. Shapes and data first: cheap, and every user error surfaces before weights are read.
  const modelDir = inspectModelDir(modelRef.dir);
  const cfg = modelDir.config;
  const quant = readQuantizationConfig(modelDir.configJson, join(modelDir.dir, 'config.json'));
  const full = p.trainable === 'full';
  if (full && quant) throw new UserError('full-on-quantized', `lora-train: trainable: full trains every weight, which needs a float base; ${modelRef.stageId} is quantized to ${quant.bits} bits (use the model before the quantize stage, or trainable: lora for QLoRA)`);
  if (full && p.init_adapter) throw new UserError('full-with-adapter', 'lora-train: init_adapter continues a LoRA adapter; with trainable: full there is none (start from a model dir instead)');
  const sites = full ? [] : loraSites(cfg, lora);
  const tokenizer = (await loadTokenizer(modelRef.dir)) as unknown as ChatTokenizer;
  const trainFile = chatmlSplitFile(chatmlRef.dir, 'train');
  const valFile = chatmlSplitFile(chatmlRef.dir, 'val');
  const trainRecords = readChatmlSplit(trainFile);
  const valRecords: ChatRecord[] = existsSync(valFile) ? readChatmlSplit(valFile) : [];
  const trainEnc = encodeRecords(tokenizer, trainRecords, p.loss_on, p.max_seq_length, trainFile);
  requireExamples('train', trainFile, trainEnc, trainRecords.length);
  const valEnc = encodeRecords(tokenizer, valRecords, p.loss_on, p.max_seq_length, valFile);
  for (const [split, enc] of [['train', trainEnc], ['val', valEnc]] as const) {
    if (enc.skipped.length > 0) ctx.log.warn(`lora-train: ${enc.skipped.length} ${split} records have no answer token within max_seq_length ${p.max_seq_length} and are left out: ${enc.skipped.slice(0, 10).join(', ')}${enc.skipped.length > 10 ? ', …' : ''}`);
    if (enc.truncated.length > 0) ctx.log.warn(`lora-train: ${enc.truncated.length} ${split} records truncated to ${p.max_seq_length} tokens`);
  }

  // 2. Resource check (resource-adaptive configuration): refuse up front, with a configuration that fits.
  const longest = Math.max(...trainEnc.examples.map((e) => e.ids.length), ...valEnc.examples.map((e) => e.ids.length));
  const budget = (p.max_memory_gb ?? (0.9 * totalmem()) / GB) * GB;
  const estimate = (batchSize: number, seqLength: number) =>
    estimateTrainingMemory(cfg, { batchSize, seqLength, quantizedBits: quant?.bits, blockSize: quant?.blockSize, r: p.r, dropout: p.lora_dropout > 0, targetModules: lora.targetModules, trainable: p.trainable });
  const need = estimate(p.per_device_train_batch_size, longest);
  if (need.totalBytes > budget) throw new UserError('insufficient-memory', memoryAdvice(p, longest, budget, need.totalBytes, estimate));

  // 3. Start point: a fresh PEFT init, or init_adapter (shapes checked against the base).
  let params: LoraTensors[];
  if (full) {
    params = [];
  } else if (p.init_adapter) {
    const dir = isAbsolute(p.init_adapter) ? p.init_adapter : resolve(ctx.pipelineDir, p.init_adapter);
    params = initialFromAdapter(dir, cfg, lora, sites);
  } else {
    params = initLora(sites, p.r, seed);
  }

  const base = loadBaseModel(modelRef.dir);
  const hp = {
    learningRate: p.learning_rate, weightDecay: p.weight_decay, adamBeta1: p.adam_beta1, adamBeta2: p.adam_beta2, adamEpsilon: p.adam_epsilon,
    scheduler: p.lr_scheduler_type, warmupRatio: p.warmup_ratio, epochs: p.num_train_epochs, batchSize: p.per_device_train_batch_size,
    gradientAccumulation: p.gradient_accumulation_steps, maxGradNorm: p.max_grad_norm, maxSteps: p.max_steps, evalSteps: p.eval_steps,
    saveSteps: p.save_steps, loggingSteps: p.logging_steps, seed,
  };
  const baseName = typeof modelDir.configJson._name_or_path === 'string' ? modelDir.configJson._name_or_path : modelRef.stageId;
  const fingerprint = hashJson({ stage: 'lora-train', version: 2, params: p, seed, model: modelRef.digest, chatml: chatmlRef.digest, threads: ctx.threads });
  const total = plannedSteps(trainEnc.examples.length, hp);
  ctx.progress(0, total, 'training');
  const started = performance.now();
  const result = await train({
    base, lora, sites, params, trainable: p.trainable, train: trainEnc.examples, val: valEnc.examples, padTokenId: cfg.padTokenId ?? cfg.eosTokenId[0] ?? 0,
    hp, threads: ctx.threads, workDir: ctx.workDir, fingerprint, signal: ctx.signal,
    evalMetrics: p.eval_metrics_samples > 0 && !full && existsSync(valFile)
      ? generationMetrics({ modelDir: modelRef.dir, valFile, samples: p.eval_metrics_samples, maxNewTokens: p.eval_max_new_tokens, lora, sites, baseName, workDir: ctx.workDir, threads: ctx.threads, seed })
      : undefined,
    onStep: (step, n, entry) => ctx.progress(step, n, `loss ${entry.loss}${entry.eval_loss !== undefined ? ` val ${entry.eval_loss}` : ''}`),
  });

  // 4. Outputs: the best adapter by val loss (the final one without a val split), logs, curve.
  if (full) writeModelDir(ctx.outDir, cfg, result.bestWeights!, readTokenizerFiles(modelDir.dir));
  else writeAdapter(ctx.outDir, lora, sites, result.best, baseName);
  const trainerState = {
    global_step: result.state.step,
    max_steps: result.totalSteps,
    num_train_epochs: p.num_train_epochs,
    best_metric: result.state.best?.evalLoss ?? null,
    best_model_checkpoint: result.state.best ? `step-${result.state.best.step}` : null,
    [full ? 'weights_are' : 'adapter_is']: result.state.best ? 'best by eval_loss' : 'final (no val split)',
    train_examples: trainEnc.examples.length,
    val_examples: valEnc.examples.length,
    skipped_records: { train: trainEnc.skipped, val: valEnc.skipped },
    truncated_records: { train: trainEnc.truncated, val: valEnc.truncated },
    log_history: result.state.logHistory,
  };
  writeFileAtomic(join(ctx.outDir, 'trainer_state.json'), `${JSON.stringify(trainerState, null, 2)}\n`);
  writeFileAtomic(join(ctx.outDir, 'loss_curve.svg'), lossCurveSvg(result.state.logHistory));

  const seconds = (performance.now() - started) / 1000;
  const tokens = result.throughput.reduce((s, t) => s + (result.state.logHistory.find((e) => e.step === t.step)?.num_tokens ?? 0), 0);
  const flopsPerToken = trainingStepFlops(cfg, 1, Math.max(1, Math.round(longest / 2)), sites, p.r, full).total / Math.max(1, Math.round(longest / 2));
  ctx.recordProvenance({
    loraTrain: {
      base: modelRef.dir,
      baseQuantization: quant ? { bits: quant.bits, blockSize: quant.blockSize, symmetric: quant.symmetric } : 'float32',
      steps: result.state.step,
      resumedFromStep: result.resumedFromStep,
      seconds,
      throughput: result.throughput,
      approxGflopsPerSecond: (tokens * flopsPerToken) / Math.max(seconds, 1e-9) / 1e9,
      memoryEstimateBytes: need,
      threads: ctx.threads,
      modelWeightsBytes: modelDir.files.filter((f) => f.endsWith('.safetensors')).reduce((s, f) => s + statSync(join(modelDir.dir, f)).size, 0),
      note: 'Same inputs, same thread count: byte-identical adapter (ONNX Runtime CPU kernels are deterministic for a fixed thread count). Another thread count may change float reductions in the last bits. Timings are in this provenance only, never in the artifact.',
    },
  });
}

function initialFromAdapter(dir: string, cfg: Parameters<typeof readPeftAdapter>[1], lora: LoraConfig, sites: LoraSite[]): LoraTensors[] {
  const adapter = readPeftAdapter(dir, cfg); // checks every tensor's shape against the base
  if (adapter.r !== lora.r) throw new UserError('init-adapter-mismatch', `${dir}: init_adapter has r ${adapter.r}, but this run trains r ${lora.r}`, { location: { file: join(dir, ADAPTER_CONFIG_FILE) } });
  const missing = sites.filter((s) => !adapter.branches.has(s.path));
  const extra = [...adapter.branches.keys()].filter((path) => !sites.some((s) => s.path === path));
  if (missing.length > 0 || extra.length > 0) {
    throw new UserError('init-adapter-mismatch', `${dir}: init_adapter does not cover the same modules as target_modules [${lora.targetModules.join(', ')}] (${missing.length ? `missing ${missing[0]!.path}` : `extra ${extra[0]}`})`, { location: { file: join(dir, ADAPTER_WEIGHTS_FILE) } });
  }
  const scale = adapter.scaling / (lora.loraAlpha / lora.r); // keep the adapter's function when lora_alpha differs
  return sites.map((s) => {
    const b = adapter.branches.get(s.path)!;
    const B = Float32Array.from(toFloat32(b.B));
    if (scale !== 1) for (let i = 0; i < B.length; i++) B[i] = B[i]! * scale;
    return { A: Float32Array.from(toFloat32(b.A)), B };
  });
}

function memoryAdvice(p: LoraTrainParams, longest: number, budget: number, needBytes: number, estimate: (b: number, t: number) => { totalBytes: number }): string {
  const fmt = (b: number) => `${Number((b / GB).toPrecision(3))} GB`;
  const effective = p.per_device_train_batch_size * p.gradient_accumulation_steps;
  const lines = [`lora-train: one step at per_device_train_batch_size ${p.per_device_train_batch_size} × ${longest} tokens needs about ${fmt(needBytes)}, more than the ${fmt(budget)} available (max_memory_gb).`];
  for (let b = p.per_device_train_batch_size - 1; b >= 1; b--) {
    if (estimate(b, longest).totalBytes <= budget) {
      lines.push(`Fits: per_device_train_batch_size ${b} with gradient_accumulation_steps ${Math.ceil(effective / b)} (same effective batch ≈ ${effective}) — about ${fmt(estimate(b, longest).totalBytes)}.`);
      return lines.join(' ');
    }
  }
  for (let t = Math.floor(longest / 2); t >= 8; t = Math.floor(t / 2)) {
    if (estimate(1, t).totalBytes <= budget) {
      lines.push(`Fits: per_device_train_batch_size 1, gradient_accumulation_steps ${effective}, max_seq_length ${t} — about ${fmt(estimate(1, t).totalBytes)}.`);
      return lines.join(' ');
    }
  }
  lines.push('Even batch 1 with 8 tokens does not fit: use a quantized base (quantize stage, bits 4) or a machine with more memory.');
  return lines.join(' ');
}
