/**
 * Exports a decoder model (any registered architecture) as ONNX in the layout transformers.js loads:
 *   <dir>/onnx/model.onnx            float32
 *   <dir>/onnx/model_q4.onnx         4-bit MatMulNBits   (transformers.js dtype "q4")
 *   <dir>/onnx/model_quantized.onnx  8-bit MatMulNBits   (transformers.js dtype "q8")
 *   <dir>/onnx/<file>_data           external weights (models over ~1.9 GB), announced in
 *                                    config.json "transformers.js_config.use_external_data_format"
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { DataError } from '../../core/errors.js';
import { architectureFor } from '../architectures/index.js';
import { llama } from '../architectures/llama.js';
import type { LlamaConfig } from '../config.js';
import { CONFIG_FILE, loadModelDir, type LoadedModelDir } from '../model-dir.js';
import type { SaveOptions } from '../onnx/serialize.js';
import type { NBitsOptions } from '../quantize/nbits.js';
import { checkNBitsOptions } from '../quantize/nbits.js';
import type { HostTensor } from '../tensor.js';
import type { LoraBranch } from '../blocks/lora.js';
import { buildDecoderGraph, type DecoderGraphOptions } from './graph.js';

export interface QuantizationSettings extends NBitsOptions {
  /** MatMulNBits accuracy_level: 0 = float32 compute (default); 4 = int8 activations (faster, less exact). */
  accuracyLevel: number;
}

export interface ExportOptions {
  quantization?: QuantizationSettings;
  lora?: Map<string, LoraBranch>;
  externalData?: SaveOptions['externalData'];
}

export interface ExportedOnnx {
  /** Path relative to the model dir, e.g. `onnx/model_q4.onnx`. */
  file: string;
  /** transformers.js dtype that selects this file. */
  dtype: 'fp32' | 'q4' | 'q8';
  externalData: boolean;
  /** Bytes written (graph + external data). */
  bytes: number;
}

export function onnxFileFor(quantization?: Pick<NBitsOptions, 'bits'>): { file: string; dtype: ExportedOnnx['dtype'] } {
  if (!quantization) return { file: 'onnx/model.onnx', dtype: 'fp32' };
  return quantization.bits === 4 ? { file: 'onnx/model_q4.onnx', dtype: 'q4' } : { file: 'onnx/model_quantized.onnx', dtype: 'q8' };
}

/** Builds and writes the decoder graph for in-memory weights (or a model dir) under `outDir/onnx/`. */
export function exportDecoderOnnx(source: string | { cfg: LlamaConfig; weights: Map<string, HostTensor> }, outDir: string, options: ExportOptions = {}): ExportedOnnx {
  const { cfg, weights } = typeof source === 'string' ? fromDir(source) : source;
  if (options.quantization) checkNBitsOptions(options.quantization);
  const graphOptions: DecoderGraphOptions = { quantization: options.quantization, lora: options.lora };
  const graph = buildDecoderGraph(cfg, weights, graphOptions);
  const { file, dtype } = onnxFileFor(options.quantization);
  const saved = graph.save(join(outDir, 'onnx'), file.slice('onnx/'.length), { externalData: options.externalData });
  return { file, dtype, externalData: saved.dataPath !== undefined, bytes: saved.bytes };
}

function fromDir(dir: string): { cfg: LlamaConfig; weights: Map<string, HostTensor> } {
  const m = loadModelDir(dir, { requireTokenizer: false });
  checkGraphSupport(m.configJson, join(m.dir, CONFIG_FILE));
  return { cfg: m.config, weights: m.weights };
}

/**
 * config.json features the graph does not implement, refused rather than silently ignored:
 * RoPE scaling (llama 3 / YaRN / linear) and activations the architecture's MLP does not compute
 * (its hiddenActivations; llama's when config.json has no model_type).
 */
export function checkGraphSupport(configJson: Record<string, unknown>, file: string): void {
  const scaling = configJson.rope_scaling as Record<string, unknown> | null | undefined;
  if (scaling !== undefined && scaling !== null) {
    const kind = scaling.rope_type ?? scaling.type;
    if (kind !== 'default') {
      throw new DataError('unsupported-config', `${file}: rope_scaling ${JSON.stringify(kind ?? scaling)} is not supported by the ONNX graph (plain RoPE only)`, { location: { file } });
    }
  }
  const act = configJson.hidden_act;
  const activations = (architectureFor(configJson.model_type) ?? llama).hiddenActivations;
  if (act !== undefined && !activations.includes(String(act))) {
    throw new DataError('unsupported-config', `${file}: hidden_act "${String(act)}" is not supported (${activations.join(' or ')} only)`, { location: { file } });
  }
}

/** config.json's `quantization_config` for our MatMulNBits scheme (`cfg`: names the linears an architecture keeps float). */
export function quantizationConfigJson(q: QuantizationSettings, cfg?: LlamaConfig): Record<string, unknown> {
  const kept = cfg ? architectureFor(cfg.architecture)?.unquantized : undefined;
  const modules = kept?.length ? `all decoder linear layers but ${kept.join(', ')} (float32)` : 'all decoder linear layers';
  return { quant_method: 'onnx_matmul_nbits', bits: q.bits, block_size: q.blockSize, sym: q.symmetric, accuracy_level: q.accuracyLevel, modules };
}

/** Reads `quantization_config` written by quantizationConfigJson (undefined when absent). */
export function readQuantizationConfig(configJson: Record<string, unknown>, file: string): QuantizationSettings | undefined {
  const q = configJson.quantization_config;
  if (q === undefined || q === null) return undefined;
  const r = q as Record<string, unknown>;
  if (typeof q !== 'object' || r.quant_method !== 'onnx_matmul_nbits') {
    throw new DataError('unsupported-quantization', `${file}: quantization_config.quant_method ${JSON.stringify(r.quant_method)} is not supported (expected "onnx_matmul_nbits")`, { location: { file } });
  }
  const settings: QuantizationSettings = { bits: r.bits as 4 | 8, blockSize: r.block_size as number, symmetric: r.sym === true, accuracyLevel: typeof r.accuracy_level === 'number' ? r.accuracy_level : 0 };
  try {
    checkNBitsOptions(settings);
  } catch (err) {
    throw new DataError('bad-config', `${file}: quantization_config: ${(err as Error).message}`, { location: { file } });
  }
  return settings;
}

/**
 * Copies a model dir's Hugging Face files (a path, or a dir already loaded — the 1.1B weights
 * are not read twice) into `outDir`, exports the ONNX graph next to them
 * and rewrites config.json with `transformers.js_config` (and `quantization_config` when
 * quantized), so the result is again a model dir — loadable by our code and by transformers.js.
 * The safetensors keep the full-precision weights; `quantization_config` says how the graph
 * (and any consumer that wants the same numbers, e.g. QLoRA) quantizes them.
 */
export function writeOnnxModelDir(source: string | LoadedModelDir, outDir: string, options: ExportOptions = {}): ExportedOnnx & { files: string[] } {
  const model = typeof source === 'string' ? loadModelDir(source) : source;
  checkGraphSupport(model.configJson, join(model.dir, CONFIG_FILE));
  mkdirSync(outDir, { recursive: true });
  const copied: string[] = [];
  for (const f of model.files) {
    if (f === CONFIG_FILE || f.startsWith('onnx/')) continue;
    mkdirSync(join(outDir, f, '..'), { recursive: true });
    copyFileSync(join(model.dir, f), join(outDir, f));
    copied.push(f);
  }
  const exported = exportDecoderOnnx({ cfg: model.config, weights: model.weights }, outDir, options);
  const configJson: Record<string, unknown> = { ...model.configJson };
  delete configJson.quantization_config;
  if (options.quantization) configJson.quantization_config = quantizationConfigJson(options.quantization, model.config);
  configJson['transformers.js_config'] = { dtype: exported.dtype, ...(exported.externalData ? { use_external_data_format: true } : {}) };
  writeFileAtomic(join(outDir, CONFIG_FILE), `${JSON.stringify(configJson, null, 2)}\n`);
  return { ...exported, files: [...copied, CONFIG_FILE, exported.file, ...(exported.externalData ? [`${exported.file}_data`] : [])].sort() };
}
