/**
 * The starting LoRA tensors of a run that continues an adapter (lora-train's `init_adapter`):
 * the adapter must cover exactly the run's sites with its rank; its tensors are copied (the run
 * updates them in place) and B is rescaled when lora_alpha differs, so the adapter's function is
 * kept: s_new · B' · A = s_adapter · B · A.
 */
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { LlamaConfig } from '../model/config.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from '../formats/peft-adapter.js';
import { readPeftAdapter } from '../model/generate/adapter.js';
import { toFloat32 } from '../model/tensor.js';
import type { LoraConfig, LoraSite, LoraTensors } from './lora.js';

export function loraFromAdapter(dir: string, cfg: LlamaConfig, lora: LoraConfig, sites: LoraSite[]): LoraTensors[] {
  const adapter = readPeftAdapter(dir, cfg); // checks every tensor's shape against the base
  if (adapter.r !== lora.r) throw new UserError('init-adapter-mismatch', `${dir}: init_adapter has r ${adapter.r}, but this run trains r ${lora.r}`, { location: { file: join(dir, ADAPTER_CONFIG_FILE) } });
  const missing = sites.filter((s) => !adapter.branches.has(s.path));
  const extra = [...adapter.branches.keys()].filter((path) => !sites.some((s) => s.path === path));
  if (missing.length > 0 || extra.length > 0) {
    throw new UserError('init-adapter-mismatch', `${dir}: init_adapter does not cover the same modules as target_modules [${lora.target_modules.join(', ')}] (${missing.length ? `missing ${missing[0]!.path}` : `extra ${extra[0]}`})`, { location: { file: join(dir, ADAPTER_WEIGHTS_FILE) } });
  }
  const scale = adapter.scaling / (lora.lora_alpha / lora.r);
  return sites.map((s) => {
    const b = adapter.branches.get(s.path)!;
    const B = Float32Array.from(toFloat32(b.B));
    if (scale !== 1) for (let i = 0; i < B.length; i++) B[i] = B[i]! * scale;
    return { A: Float32Array.from(toFloat32(b.A)), B };
  });
}
