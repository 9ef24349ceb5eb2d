import { existsSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeFileAtomic } from '../../src/core/atomic.js';
import { hashJson } from '../../src/core/canonical-json.js';
import { UserError } from '../../src/core/errors.js';
import type { StageContext } from '../../src/engine/contract.js';
import { readQuantizationConfig } from '../../src/model/decoder/export.js';
import { inspectModelDir, writeModelDir } from '../../src/model/model-dir.js';
import { loadTokenizer, readTokenizerFiles } from '../../src/model/tokenizer/index.js';
import { writeAdapter } from '../../src/train/adapter.js';
import type { TrainingArguments } from '../../src/train/arguments.js';
import { loadBaseModel } from '../../src/train/base.js';
import { encodeRecords, requireExamples, type ChatTokenizer, type ChatRecord } from '../../src/train/data.js';
import { chatmlSplitFile, readChatmlSplit } from '../../src/formats/chatml.js';
import { trainingStepFlops } from '../../src/train/flops.js';
import { loraFromAdapter } from '../../src/train/init-adapter.js';
import { lossCurveSvg } from '../../src/train/loss-curve.js';
import { initLora, loraSites, resolveTargetModules, type LoraConfig } from '../../src/train/lora.js';
import { requireTrainingMemory } from '../../src/train/memory.js';
import type { Trainable } from '../../src/train/step/index.js';
import { writeTrainerState } from '../../src/train/trainer-state.js';
import { peftBaseModelPath } from '../../src/train/peft-base-path.js';
import { plannedSteps, train } from '../../src/train/trainer.js';
import { generationMetrics } from './eval-metrics.js';
import type { LoraTrainParams } from './params.js';

const GB = 2 ** 30;

export async function runLoraTrain(ctx: StageContext<LoraTrainParams>): Promise<void> {
  const p = ctx.params;
  // The params are transformers' TrainingArguments by name; only the seed is resolved here.
  const args: TrainingArguments = { ...p, seed: p.seed ?? ctx.seed };
  const modelRef = ctx.input('model', { transitive: true });
  const chatmlRef = ctx.input('chatml');

  // 1. Shapes and data first: cheap, and every user error surfaces before weights are read.
  const modelDir = inspectModelDir(modelRef.dir);
  const cfg = modelDir.config;
  const lora: LoraConfig = { r: p.r, lora_alpha: p.lora_alpha, lora_dropout: p.lora_dropout, target_modules: resolveTargetModules(cfg, p.target_modules) }; // PEFT names, as in the pipeline
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
  const need = requireTrainingMemory(cfg, { quantizedBits: quant?.bits, blockSize: quant?.blockSize, r: p.r, dropout: p.lora_dropout > 0, targetModules: lora.target_modules, trainable: p.trainable }, args, longest, budget);

  // 3. What is trained, from where: every weight, or LoRA from a fresh PEFT init or init_adapter (shapes checked against the base).
  const initAdapter = p.init_adapter && (isAbsolute(p.init_adapter) ? p.init_adapter : resolve(ctx.pipelineDir, p.init_adapter));
  const trainable: Trainable = full ? { kind: 'full' } : { kind: 'lora', lora, sites, params: initAdapter ? loraFromAdapter(initAdapter, cfg, lora, sites) : initLora(sites, p.r, args.seed) };

  const base = loadBaseModel(modelRef.dir);
  const baseName = peftBaseModelPath(modelRef.key); // adapter_config.json's base_model_name_or_path (see peft-base-path.ts)
  const fingerprint = hashJson({ stage: 'lora-train', version: 2, params: p, seed: args.seed, model: modelRef.digest, chatml: chatmlRef.digest, threads: ctx.threads });
  const total = plannedSteps(trainEnc.examples.length, args);
  ctx.progress(0, total, 'training');
  const started = performance.now();
  const result = await train({
    base, trainable, train: trainEnc.examples, val: valEnc.examples, padTokenId: cfg.padTokenId ?? cfg.eosTokenId[0] ?? 0,
    args, threads: ctx.threads, workDir: ctx.workDir, fingerprint, signal: ctx.signal,
    evalMetrics: p.eval_metrics_samples > 0 && !full && existsSync(valFile)
      ? generationMetrics({ modelDir: modelRef.dir, valFile, samples: p.eval_metrics_samples, maxNewTokens: p.eval_max_new_tokens, lora, sites, baseName, workDir: ctx.workDir, threads: ctx.threads, seed: args.seed })
      : undefined,
    onStep: (step, n, entry) => ctx.progress(step, n, `loss ${entry.loss}${entry.eval_loss !== undefined ? ` val ${entry.eval_loss}` : ''}`),
  });

  // 4. Outputs: the best adapter by val loss (the final one without a val split), logs, curve.
  if (full) writeModelDir(ctx.outDir, cfg, result.bestWeights!, readTokenizerFiles(modelDir.dir));
  else writeAdapter(ctx.outDir, lora, sites, result.best, baseName);
  writeTrainerState(ctx.outDir, { result, num_train_epochs: p.num_train_epochs, full, train: trainEnc, val: valEnc });
  writeFileAtomic(join(ctx.outDir, 'loss_curve.svg'), lossCurveSvg(result.state.logHistory));

  const seconds = (performance.now() - started) / 1000;
  // Achieved FLOP/s of the optimizer steps run here: every step's tokens over the steps' own time
  // (evaluation, loading and writing excluded; their FLOPs are not counted either).
  const stepTokens = result.throughput.reduce((s, t) => s + t.tokens, 0);
  const stepSeconds = result.throughput.reduce((s, t) => s + t.seconds, 0);
  const meanLength = Math.max(1, Math.round(longest / 2));
  const flopsPerToken = trainingStepFlops(cfg, 1, meanLength, sites, p.r, full).total / meanLength;
  ctx.recordProvenance({
    loraTrain: {
      base: modelRef.dir,
      baseQuantization: quant ? { bits: quant.bits, blockSize: quant.blockSize, symmetric: quant.symmetric } : 'float32',
      steps: result.state.step,
      resumedFromStep: result.resumedFromStep,
      seconds,
      throughput: result.throughput,
      approxGflopsPerSecond: (stepTokens * flopsPerToken) / Math.max(stepSeconds, 1e-9) / 1e9,
      memoryEstimateBytes: need,
      threads: ctx.threads,
      modelWeightsBytes: modelDir.files.filter((f) => f.endsWith('.safetensors')).reduce((s, f) => s + statSync(join(modelDir.dir, f)).size, 0),
      note: 'Same inputs, same thread count: byte-identical adapter (ONNX Runtime CPU kernels are deterministic for a fixed thread count). Another thread count may change float reductions in the last bits. Timings are in this provenance only, never in the artifact.',
    },
  });
}
