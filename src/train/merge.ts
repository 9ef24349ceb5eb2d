/**
 * Merges a PEFT LoRA adapter into its base: W' = W + scaling · B · A for every adapted module
 * (scaling = lora_alpha / r, or lora_alpha / √r with use_rslora), accumulated in float64 and stored
 * as float32; the tensors the adapter does not touch keep their dtype. A quantized base (quantize
 * stage) is merged on its float weights; the result is a float model dir.
 */
import type { PeftAdapter } from '../model/generate/adapter.js';
import { loadModelDir, writeModelDir } from '../model/model-dir.js';
import { toFloat32, type HostTensor } from '../model/tensor.js';
import { readTokenizerFiles } from '../model/tokenizer/files.js';

/** W [out, in] + s · B [out, r] · A [r, in], as a new float32 tensor. */
export function mergedWeight(W: HostTensor, A: HostTensor, B: HostTensor, scaling: number): HostTensor {
  const [out, inDim] = W.shape as [number, number];
  const r = A.shape[0]!;
  const w = toFloat32(W), a = toFloat32(A), b = toFloat32(B);
  const merged = new Float32Array(out * inDim);
  const row = new Float64Array(inDim);
  for (let o = 0; o < out; o++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const bk = b[o * r + k]!;
      if (bk === 0) continue;
      for (let i = 0; i < inDim; i++) row[i] += bk * a[k * inDim + i]!;
    }
    for (let i = 0; i < inDim; i++) merged[o * inDim + i] = w[o * inDim + i]! + scaling * row[i]!;
  }
  return { dtype: 'F32', shape: [out, inDim], data: merged };
}

/** Writes the merged model dir; returns the names of the merged tensors. */
export function mergeAdapterIntoModelDir(baseDir: string, adapter: PeftAdapter, outDir: string): string[] {
  const model = loadModelDir(baseDir);
  const weights = new Map(model.weights);
  const merged: string[] = [];
  for (const [path, branch] of adapter.branches) {
    const name = `${path}.weight`;
    weights.set(name, mergedWeight(weights.get(name)!, branch.A, branch.B, branch.scaling));
    merged.push(name);
  }
  writeModelDir(outDir, model.config, weights, readTokenizerFiles(model.dir));
  return merged;
}
