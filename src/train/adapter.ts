/**
 * A trained LoRA adapter as a PEFT adapter dir (the format: src/formats/peft-adapter.ts):
 * the A and B factors of every site under PEFT's tensor names, and PEFT's config.
 */
import { peftAdapterConfig, peftLoraTensorName, writePeftAdapter } from '../formats/peft-adapter.js';
import type { HostTensor } from '../model/tensor.js';
import type { LoraConfig, LoraSite, LoraTensors } from './lora.js';

/** The adapter tensors by PEFT name, in site order (A then B). */
export function adapterTensors(sites: LoraSite[], params: LoraTensors[], r: number): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  sites.forEach((site, i) => {
    out.set(peftLoraTensorName(site.path, 'A'), { dtype: 'F32', shape: [r, site.inDim], data: params[i]!.A });
    out.set(peftLoraTensorName(site.path, 'B'), { dtype: 'F32', shape: [site.outDim, r], data: params[i]!.B });
  });
  return out;
}

/** Writes a PEFT adapter dir for `baseModel` (adapter_config.json's base_model_name_or_path). */
export function writeAdapter(dir: string, lora: LoraConfig, sites: LoraSite[], params: LoraTensors[], baseModel: string): void {
  const config = peftAdapterConfig({ r: lora.r, lora_alpha: lora.lora_alpha, lora_dropout: lora.lora_dropout, target_modules: lora.target_modules, base_model_name_or_path: baseModel });
  writePeftAdapter(dir, config, adapterTensors(sites, params, lora.r));
}
