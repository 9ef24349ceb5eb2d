/**
 * Loads the frozen base of a training run from a model dir. A dir written by the quantize stage
 * keeps float safetensors plus `quantization_config`; its decoder linears are re-quantized here
 * with the same deterministic quantizer (the codes equal those of its ONNX graph) one tensor at a
 * time, so the float copy of each weight is dropped at once and the base stays 4-bit in memory.
 */
import { join } from 'node:path';
import { DataError } from '../core/errors.js';
import { decoderArchitecture } from '../model/architectures/index.js';
import { readQuantizationConfig } from '../model/decoder/export.js';
import { inspectModelDir, openModelWeights, type ModelDir } from '../model/model-dir.js';
import { quantizeNBits, type NBitsWeight } from '../model/quantize/nbits.js';
import { toFloat32, type HostTensor } from '../model/tensor.js';
import type { BaseModel } from './step/index.js';

export interface LoadedBase extends BaseModel {
  dir: ModelDir;
  /** Quantization of the decoder linears, when the dir is a quantized model. */
  quantization?: { bits: number; blockSize: number; symmetric: boolean };
}

export function loadBaseModel(modelDir: string): LoadedBase {
  const dir = inspectModelDir(modelDir);
  const quant = readQuantizationConfig(dir.configJson, join(dir.dir, 'config.json'));
  if (quant && quant.bits !== 4) {
    throw new DataError('unsupported-quantization', `${join(dir.dir, 'config.json')}: lora-train trains on 4-bit (QLoRA) or float bases; this model is quantized to ${quant.bits} bits`, { location: { file: join(dir.dir, 'config.json') } });
  }
  const linearWeights = new Set<string>();
  const arch = decoderArchitecture(dir.config);
  for (let l = 0; l < dir.config.numHiddenLayers; l++) for (const m of arch.linearModules) linearWeights.add(`${arch.linearPath(l, m)}.weight`);
  const reader = openModelWeights(dir);
  const weights = new Map<string, HostTensor>();
  const quantized = new Map<string, NBitsWeight>();
  try {
    for (const name of dir.weightIndex.keys()) {
      const t = reader.read(name);
      if (quant && linearWeights.has(name)) {
        const [N, K] = t.shape as [number, number];
        quantized.set(name.slice(0, -'.weight'.length), quantizeNBits(toFloat32(t), N, K, quant));
      } else {
        weights.set(name, t.dtype === 'F32' ? { ...t, data: Float32Array.from(t.data as Float32Array) } : { dtype: 'F32', shape: t.shape, data: toFloat32(t) });
      }
    }
  } finally {
    reader.close();
  }
  return { dir, config: dir.config, weights, quantized: quant ? quantized : undefined, quantization: quant ? { bits: quant.bits, blockSize: quant.blockSize, symmetric: quant.symmetric } : undefined };
}
