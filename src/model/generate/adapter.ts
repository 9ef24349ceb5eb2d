/**
 * Reads a PEFT LoRA adapter dir: `adapter_config.json` (r, lora_alpha, target_modules,
 * use_rslora) and `adapter_model.safetensors` with PEFT's tensor names
 *   base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight   [r, in]
 *   base_model.model.model.layers.N.self_attn.q_proj.lora_B.weight   [out, r]
 * and returns the side branches by HF module path, scaling = lora_alpha / r
 * (lora_alpha / √r with use_rslora).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '../../core/errors.js';
import { linearPath, linearShape, LINEAR_MODULES } from '../architectures/llama.js';
import type { LlamaConfig } from '../config.js';
import type { LoraBranch } from '../blocks/lora.js';
import { readSafetensors } from '../safetensors/index.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

export interface PeftAdapter {
  dir: string;
  r: number;
  loraAlpha: number;
  scaling: number;
  targetModules: string[];
  /** Module path → branch. */
  branches: Map<string, LoraBranch>;
  /** config.json of the adapter as parsed. */
  configJson: Record<string, unknown>;
}

export function readPeftAdapter(adapterDir: string, cfg: LlamaConfig): PeftAdapter {
  const dir = resolve(adapterDir);
  const configPath = join(dir, ADAPTER_CONFIG_FILE);
  if (!existsSync(configPath)) throw new DataError('missing-adapter', `${configPath}: adapter config missing (a PEFT adapter dir needs ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE})`, { location: { file: configPath } });
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new DataError('bad-json', `${configPath}: not valid JSON (${(err as Error).message})`, { location: { file: configPath } });
  }
  const r = json.r, alpha = json.lora_alpha;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) throw new DataError('bad-adapter', `${configPath}: "r" must be a positive integer`, { location: { file: configPath } });
  if (typeof alpha !== 'number') throw new DataError('bad-adapter', `${configPath}: "lora_alpha" must be a number`, { location: { file: configPath } });
  if (json.peft_type !== undefined && json.peft_type !== 'LORA') throw new DataError('bad-adapter', `${configPath}: peft_type ${JSON.stringify(json.peft_type)} is not supported (LORA only)`, { location: { file: configPath } });
  const scaling = json.use_rslora === true ? alpha / Math.sqrt(r) : alpha / r;
  const weightsPath = join(dir, ADAPTER_WEIGHTS_FILE);
  if (!existsSync(weightsPath)) throw new DataError('missing-adapter', `${weightsPath}: adapter weights missing`, { location: { file: weightsPath } });
  const tensors = readSafetensors(weightsPath).tensors;
  const branches = new Map<string, LoraBranch>();
  const used = new Set<string>();
  for (let l = 0; l < cfg.numHiddenLayers; l++)
    for (const m of LINEAR_MODULES) {
      const path = linearPath(l, m);
      const aName = `base_model.model.${path}.lora_A.weight`, bName = `base_model.model.${path}.lora_B.weight`;
      const A = tensors.get(aName), B = tensors.get(bName);
      if (!A && !B) continue;
      if (!A || !B) throw new DataError('bad-adapter', `${weightsPath}: ${A ? bName : aName} missing (LoRA needs both A and B)`, { location: { file: weightsPath } });
      const [out, inDim] = linearShape(cfg, m);
      if (A.shape.length !== 2 || A.shape[0] !== r || A.shape[1] !== inDim) throw new DataError('bad-adapter', `${weightsPath}: ${aName} has shape [${A.shape.join(', ')}], expected [${r}, ${inDim}]`, { location: { file: weightsPath } });
      if (B.shape.length !== 2 || B.shape[0] !== out || B.shape[1] !== r) throw new DataError('bad-adapter', `${weightsPath}: ${bName} has shape [${B.shape.join(', ')}], expected [${out}, ${r}]`, { location: { file: weightsPath } });
      branches.set(path, { A, B, scaling });
      used.add(aName).add(bName);
    }
  const unknown = [...tensors.keys()].filter((n) => !used.has(n));
  if (unknown.length > 0) throw new DataError('bad-adapter', `${weightsPath}: tensors that match no layer of the base model: ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', …' : ''}`, { location: { file: weightsPath } });
  if (branches.size === 0) throw new DataError('bad-adapter', `${weightsPath}: no LoRA tensors found`, { location: { file: weightsPath } });
  const targetModules = Array.isArray(json.target_modules) ? (json.target_modules as string[]) : [];
  return { dir, r, loraAlpha: alpha, scaling, targetModules, branches, configJson: json };
}
