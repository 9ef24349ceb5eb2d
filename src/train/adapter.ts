/**
 * PEFT adapter output: `adapter_config.json` and `adapter_model.safetensors` with PEFT's names
 * (`base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight` [r, in], `lora_B.weight`
 * [out, r]), loadable by Python PEFT and by the project's generate stage.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../model/generate/adapter.js';
import { writeSafetensors } from '../model/safetensors/index.js';
import type { HostTensor } from '../model/tensor.js';
import { peftTensorName, type LoraConfig, type LoraSite, type LoraTensors } from './lora.js';

export function adapterConfigJson(lora: LoraConfig, baseModel: string): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: baseModel,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: lora.loraAlpha,
    lora_dropout: lora.loraDropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: lora.r,
    rank_pattern: {},
    revision: null,
    target_modules: [...lora.targetModules],
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
}

/** The adapter tensors by PEFT name, in site order (A then B). */
export function adapterTensors(sites: LoraSite[], params: LoraTensors[], r: number): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  sites.forEach((site, i) => {
    out.set(peftTensorName(site, 'A'), { dtype: 'F32', shape: [r, site.inDim], data: params[i]!.A });
    out.set(peftTensorName(site, 'B'), { dtype: 'F32', shape: [site.outDim, r], data: params[i]!.B });
  });
  return out;
}

/** Writes a PEFT adapter dir. */
export function writeAdapter(dir: string, lora: LoraConfig, sites: LoraSite[], params: LoraTensors[], baseModel: string): void {
  writeSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), adapterTensors(sites, params, lora.r), { format: 'pt' });
  writeFileAtomic(join(dir, ADAPTER_CONFIG_FILE), `${JSON.stringify(adapterConfigJson(lora, baseModel), null, 2)}\n`);
}
