/**
 * The PEFT LoRA adapter directory, as Python PEFT saves and loads it:
 *
 *   adapter_config.json         PEFT's LoraConfig (schemas/adapter-config.schema.json)
 *   adapter_model.safetensors   base_model.model.<module path>.lora_A.weight   [r, in]
 *                               base_model.model.<module path>.lora_B.weight   [out, r]
 *
 * lora-train writes it (src/train/adapter.ts builds the tensors and calls writePeftAdapter);
 * generate, merge-adapter and lora-train's init_adapter read it (readPeftAdapterDir, then
 * src/model/generate/adapter.ts matches the tensors to the base model's layers). Every field of
 * the written config is set in peftAdapterConfig and nowhere else.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { DataError } from '../core/errors.js';
import { readJsonFile } from '../core/files.js';
import { readSafetensors, writeSafetensors } from '../model/safetensors/index.js';
import type { HostTensor } from '../model/tensor.js';
import { schemaProblem } from './schema-check.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

/** PEFT's tensor name of a LoRA factor on the module at `modulePath` (`model.layers.0.self_attn.q_proj`). */
export function peftLoraTensorName(modulePath: string, factor: 'A' | 'B'): string {
  return `base_model.model.${modulePath}.lora_${factor}.weight`;
}

/** What a trained adapter's config says, in PEFT's names. */
export interface PeftLoraSettings {
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: readonly string[];
  base_model_name_or_path: string;
}

/** adapter_config.json as PEFT writes it for a plain LoRA on a causal LM (keys in PEFT's order). */
export function peftAdapterConfig(settings: PeftLoraSettings): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: settings.base_model_name_or_path,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: settings.lora_alpha,
    lora_dropout: settings.lora_dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: settings.r,
    rank_pattern: {},
    revision: null,
    target_modules: [...settings.target_modules],
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
}

/** Writes the weights, then the config (a dir with a config always has its weights). */
export function writePeftAdapter(dir: string, config: Record<string, unknown>, tensors: Map<string, HostTensor>): void {
  writeSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), tensors, { format: 'pt' });
  writeFileAtomic(join(dir, ADAPTER_CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
}

/** An adapter directory as read: the config's LoRA settings and every tensor by PEFT name. */
export interface PeftAdapterFiles {
  dir: string;
  configPath: string;
  weightsPath: string;
  r: number;
  loraAlpha: number;
  /** lora_alpha / r, or lora_alpha / √r with use_rslora (PEFT's `scaling`). */
  scaling: number;
  /** As the config lists them ([] when it lists none or a regex string). */
  targetModules: string[];
  /** adapter_config.json as parsed. */
  configJson: Record<string, unknown>;
  tensors: Map<string, HostTensor>;
}

/** Reads and checks an adapter dir; a missing file or a bad config is a DataError naming the file. */
export function readPeftAdapterDir(adapterDir: string): PeftAdapterFiles {
  const dir = resolve(adapterDir);
  const configPath = join(dir, ADAPTER_CONFIG_FILE);
  const weightsPath = join(dir, ADAPTER_WEIGHTS_FILE);
  if (!existsSync(configPath)) {
    throw new DataError('missing-adapter', `${configPath}: adapter config missing (a PEFT adapter dir needs ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE})`, { location: { file: configPath } });
  }
  const json = readJsonFile(configPath, 'the adapter config');
  const problem = json !== null && typeof json === 'object' && !Array.isArray(json) ? schemaProblem('adapter-config', json) : 'not a JSON object';
  if (problem !== undefined) throw new DataError('bad-adapter', `${configPath}: ${problem}`, { location: { file: configPath } });
  const configJson = json as Record<string, unknown>;
  const r = configJson.r as number, loraAlpha = configJson.lora_alpha as number;
  if (!existsSync(weightsPath)) throw new DataError('missing-adapter', `${weightsPath}: adapter weights missing`, { location: { file: weightsPath } });
  return {
    dir,
    configPath,
    weightsPath,
    r,
    loraAlpha,
    scaling: configJson.use_rslora === true ? loraAlpha / Math.sqrt(r) : loraAlpha / r,
    targetModules: Array.isArray(configJson.target_modules) ? (configJson.target_modules as string[]) : [],
    configJson,
    tensors: readSafetensors(weightsPath).tensors,
  };
}
