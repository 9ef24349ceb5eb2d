/**
 * LoRA parameters: which modules carry an adapter, their shapes and the PEFT initialisation
 * (PEFT's tensor names: src/formats/peft-adapter.ts). A LoRA branch on a linear module
 * y = x·Wᵀ adds s·(drop(x)·Aᵀ)·Bᵀ with A: [r, in], B: [out, r], s = lora_alpha / r (PEFT's `scaling`).
 */
import { UserError } from '../core/errors.js';
import { Prng, deriveSeed } from '../core/prng.js';
import { decoderArchitecture } from '../model/architectures/index.js';
import type { LlamaConfig } from '../model/config.js';

/** PEFT's LoraConfig, by PEFT's names (the pipeline's `with:` keys). */
export interface LoraConfig {
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /** Module names of the architecture's layer (PEFT's target_modules), in layer order. */
  target_modules: string[];
}

/** One adapted module: layer, module and shapes. */
export interface LoraSite {
  layer: number;
  module: string;
  /** HF module path, e.g. `model.layers.0.self_attn.q_proj`. */
  path: string;
  inDim: number;
  outDim: number;
}

/** A and B of one site, float32, row-major. */
export interface LoraTensors {
  A: Float32Array; // [r, in]
  B: Float32Array; // [out, r]
}

export function loraScaling(cfg: LoraConfig): number {
  return cfg.lora_alpha / cfg.r;
}

/**
 * Resolves target module names as PEFT does (a name selects every linear module it equals or
 * ends with after a dot: `gate_proj` selects each expert's `experts.3.gate_proj` in an MoE layer)
 * and returns the selected modules in layer order.
 */
export function resolveTargetModules(model: LlamaConfig, names: readonly string[]): string[] {
  const arch = decoderArchitecture(model);
  const selects = (name: string, module: string): boolean => module === name || module.endsWith(`.${name}`);
  const unknown = names.filter((n) => !arch.linearModules.some((m) => selects(n, m)));
  if (unknown.length > 0) {
    throw new UserError('unknown-target-module', `target_modules: ${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a linear module of a ${arch.modelType} layer (known: ${arch.linearModules.join(', ')})`);
  }
  if (names.length === 0) throw new UserError('unknown-target-module', 'target_modules must name at least one module');
  return arch.linearModules.filter((m) => names.some((n) => selects(n, m)));
}

/** Every adapted module, layer-major then in the layer's module order (the order of the optimizer's flat buffer). */
export function loraSites(model: LlamaConfig, lora: LoraConfig): LoraSite[] {
  const arch = decoderArchitecture(model);
  const sites: LoraSite[] = [];
  for (let layer = 0; layer < model.numHiddenLayers; layer++) {
    for (const module of arch.linearModules) {
      if (!lora.target_modules.includes(module)) continue;
      const [outDim, inDim] = arch.linearShape(model, module);
      sites.push({ layer, module, path: arch.linearPath(layer, module), inDim, outDim });
    }
  }
  return sites;
}

/**
 * PEFT's default init: A ~ kaiming_uniform(a = √5) = U(−1/√in, 1/√in), B = 0, so the adapted
 * model starts equal to the base. Each site draws from its own stream (seed, path).
 */
export function initLora(sites: LoraSite[], r: number, seed: number): LoraTensors[] {
  return sites.map((site) => {
    const prng = new Prng(deriveSeed(seed, `lora:${site.path}`));
    const bound = 1 / Math.sqrt(site.inDim);
    const A = new Float32Array(r * site.inDim);
    for (let i = 0; i < A.length; i++) A[i] = (2 * prng.next() - 1) * bound;
    return { A, B: new Float32Array(site.outDim * r) };
  });
}
