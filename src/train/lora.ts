/**
 * LoRA parameters: which modules carry an adapter, their shapes and the PEFT initialisation
 * (PEFT's tensor names: src/formats/peft-adapter.ts). A LoRA branch on a linear module
 * y = x·Wᵀ adds s·(drop(x)·Aᵀ)·Bᵀ with A: [r, in], B: [out, r], s = lora_alpha / r (PEFT's `scaling`).
 */
import { UserError } from '../core/errors.js';
import { Prng, deriveSeed } from '../core/prng.js';
import { LINEAR_MODULES, linearPath, linearShape, type LinearModule, type LlamaConfig } from '../model/config.js';

export interface LoraConfig {
  r: number;
  loraAlpha: number;
  loraDropout: number;
  targetModules: LinearModule[];
}

/** One adapted module: layer, module and shapes. */
export interface LoraSite {
  layer: number;
  module: LinearModule;
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
  return cfg.loraAlpha / cfg.r;
}

/** Checks target module names (PEFT accepts the short names) and returns them in HF order. */
export function resolveTargetModules(names: readonly string[]): LinearModule[] {
  const unknown = names.filter((n) => !(LINEAR_MODULES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new UserError('unknown-target-module', `target_modules: ${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a linear module of a llama-family layer (known: ${LINEAR_MODULES.join(', ')})`);
  }
  if (names.length === 0) throw new UserError('unknown-target-module', 'target_modules must name at least one module');
  return LINEAR_MODULES.filter((m) => names.includes(m));
}

/** Every adapted module, layer-major then in HF module order (the order of the optimizer's flat buffer). */
export function loraSites(model: LlamaConfig, lora: LoraConfig): LoraSite[] {
  const sites: LoraSite[] = [];
  for (let layer = 0; layer < model.numHiddenLayers; layer++) {
    for (const module of LINEAR_MODULES) {
      if (!lora.targetModules.includes(module)) continue;
      const [outDim, inDim] = linearShape(model, module);
      sites.push({ layer, module, path: linearPath(layer, module), inDim, outDim });
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
