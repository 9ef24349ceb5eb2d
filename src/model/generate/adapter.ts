/**
 * A PEFT LoRA adapter (the directory format: src/formats/peft-adapter.ts) matched to a llama-family
 * base model: every tensor must belong to a linear module of one of the model's layers, with
 * A: [r, in] and B: [out, r]. Returns the side branches by HF module path, with PEFT's scaling.
 */
import { DataError } from '../../core/errors.js';
import { peftLoraTensorName, readPeftAdapterDir, type PeftAdapterFiles } from '../../formats/peft-adapter.js';
import { linearPath, linearShape, LINEAR_MODULES } from '../architectures/llama.js';
import type { LlamaConfig } from '../config.js';
import type { LoraBranch } from '../blocks/lora.js';

/** The adapter's settings (see PeftAdapterFiles) and its branches. */
export interface PeftAdapter extends Omit<PeftAdapterFiles, 'configPath' | 'weightsPath' | 'tensors'> {
  /** Module path → branch. */
  branches: Map<string, LoraBranch>;
}

export function readPeftAdapter(adapterDir: string, cfg: LlamaConfig): PeftAdapter {
  const { configPath: _config, weightsPath, tensors, ...settings } = readPeftAdapterDir(adapterDir);
  const { r, scaling } = settings;
  const fail = (message: string): never => {
    throw new DataError('bad-adapter', `${weightsPath}: ${message}`, { location: { file: weightsPath } });
  };
  const branches = new Map<string, LoraBranch>();
  const used = new Set<string>();
  for (let l = 0; l < cfg.numHiddenLayers; l++)
    for (const m of LINEAR_MODULES) {
      const path = linearPath(l, m);
      const aName = peftLoraTensorName(path, 'A'), bName = peftLoraTensorName(path, 'B');
      const A = tensors.get(aName), B = tensors.get(bName);
      if (!A && !B) continue;
      if (!A || !B) return fail(`${A ? bName : aName} missing (LoRA needs both A and B)`);
      const [out, inDim] = linearShape(cfg, m);
      if (A.shape.length !== 2 || A.shape[0] !== r || A.shape[1] !== inDim) fail(`${aName} has shape [${A.shape.join(', ')}], expected [${r}, ${inDim}]`);
      if (B.shape.length !== 2 || B.shape[0] !== out || B.shape[1] !== r) fail(`${bName} has shape [${B.shape.join(', ')}], expected [${out}, ${r}]`);
      branches.set(path, { A, B, scaling });
      used.add(aName).add(bName);
    }
  const unknown = [...tensors.keys()].filter((n) => !used.has(n));
  if (unknown.length > 0) fail(`tensors that match no layer of the base model: ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', …' : ''}`);
  if (branches.size === 0) fail('no LoRA tensors found');
  return { ...settings, branches };
}
