/**
 * Quantizes a model dir: every decoder linear layer to MatMulNBits (4- or 8-bit, block-wise),
 * written as a new model dir (HF files + onnx/model_q4.onnx or onnx/model_quantized.onnx), and
 * measures what it costs: sizes, and the logit error against the float32 graph on a fixed
 * batch of token ids drawn from a seeded PRNG.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Prng } from '../../core/prng.js';
import { linearWeightNames } from '../architectures/index.js';
import { buildDecoderGraph } from '../decoder/graph.js';
import { writeOnnxModelDir, type QuantizationSettings } from '../decoder/export.js';
import { DecoderRunner, type StepInput } from '../decoder/runner.js';
import { loadModelDir } from '../model-dir.js';
import { sessionFromGraph } from '../onnx/session.js';
import { numel } from '../tensor.js';

export interface QuantizeOptions {
  threads: number;
  /** Seeds the evaluation batch. */
  seed: number;
  /** Evaluation batch: rows × tokens. Default 2 × 32. */
  evalRows?: number;
  evalTokens?: number;
  /** Scratch space for graphs over 2 GB. */
  scratchDir?: string;
}

export interface QuantizeReport {
  quantization: QuantizationSettings;
  /** Parameters in quantized linear layers / all parameters. */
  quantizedParameters: number;
  totalParameters: number;
  /** float32 bytes of the linear weights vs bytes of codes + scales + zero points. */
  linearBytesFloat32: number;
  linearBytesQuantized: number;
  /** Size of the written ONNX file(s). */
  onnxFile: string;
  onnxBytes: number;
  /** Logit error on the evaluation batch (all positions). */
  evaluation: {
    rows: number;
    tokens: number;
    maxAbsError: number;
    meanAbsError: number;
    /** maxAbsError / max |float32 logit| */
    maxRelativeError: number;
    /** Share of positions whose argmax token agrees. */
    top1Agreement: number;
  };
}

export async function quantizeModelDir(sourceDir: string, outDir: string, quantization: QuantizationSettings, options: QuantizeOptions): Promise<QuantizeReport> {
  const model = loadModelDir(sourceDir);
  const exported = writeOnnxModelDir(model, outDir, { quantization });
  const onnxBytes = statSync(join(outDir, exported.file)).size + (exported.externalData ? statSync(join(outDir, `${exported.file}_data`)).size : 0);
  const cfg = model.config;
  let quantizedParameters = 0, totalParameters = 0;
  const linear = linearWeightNames(cfg);
  for (const [name, t] of model.weights) {
    totalParameters += numel(t.shape);
    if (linear.has(name)) quantizedParameters += numel(t.shape);
  }
  const blocksPerParam = 1 / quantization.blockSize;
  const linearBytesQuantized = Math.round(quantizedParameters * (quantization.bits / 8 + blocksPerParam * (4 + (quantization.symmetric ? 0 : quantization.bits / 8))));

  const rows = options.evalRows ?? 2, tokens = Math.min(options.evalTokens ?? 32, cfg.maxPositionEmbeddings);
  const prng = new Prng(options.seed);
  const batch = Array.from({ length: rows }, () => Array.from({ length: tokens }, () => prng.int(cfg.vocabSize)));
  const step = { inputIds: batch, attentionMask: batch.map((r) => r.map(() => 1)), positionIds: batch.map((r) => r.map((_, t) => t)) };

  const fullSession = await sessionFromGraph(buildDecoderGraph(cfg, model.weights), { threads: options.threads }, options.scratchDir);
  const ref = await logitsOf(await DecoderRunner.create(cfg, fullSession, options.threads), step);
  const got = await logitsOf(await DecoderRunner.create(cfg, join(outDir, exported.file), options.threads), step);

  return {
    quantization,
    quantizedParameters,
    totalParameters,
    linearBytesFloat32: quantizedParameters * 4,
    linearBytesQuantized,
    onnxFile: exported.file,
    onnxBytes,
    evaluation: { rows, tokens, ...compareLogits(ref, got, cfg.vocabSize) },
  };
}

/** One step's logits; the runner's ORT session is released even when the step throws. */
async function logitsOf(runner: DecoderRunner, step: StepInput): Promise<Float32Array> {
  try {
    return (await runner.step(step)).logits;
  } finally {
    await runner.release();
  }
}

/** Error statistics of `got` against `ref` (both [positions, V]). */
export function compareLogits(ref: Float32Array, got: Float32Array, V: number): Omit<QuantizeReport['evaluation'], 'rows' | 'tokens'> {
  let maxAbs = 0, sumAbs = 0, maxRef = 0, agree = 0;
  const positions = ref.length / V;
  for (let p = 0; p < positions; p++) {
    let ai = 0, bi = 0;
    for (let v = 0; v < V; v++) {
      const i = p * V + v;
      const d = Math.abs(ref[i]! - got[i]!);
      maxAbs = Math.max(maxAbs, d);
      sumAbs += d;
      maxRef = Math.max(maxRef, Math.abs(ref[i]!));
      if (ref[i]! > ref[p * V + ai]!) ai = v;
      if (got[i]! > got[p * V + bi]!) bi = v;
    }
    if (ai === bi) agree++;
  }
  return { maxAbsError: maxAbs, meanAbsError: sumAbs / ref.length, maxRelativeError: maxRef > 0 ? maxAbs / maxRef : 0, top1Agreement: agree / positions };
}
