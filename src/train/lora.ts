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
  /** Index of the dropout mask it reads (dropoutSlots); a site's own unless it is an MoE expert's. */
  maskSlot: number;
  /** The mask's rows: the batch's tokens, or its token–expert pairs (N·k) for a routed expert. */
  maskRows: 'tokens' | 'pairs';
}

/** A and B of one site, float32, row-major. */
export interface LoraTensors {
  A: Float32Array; // [r, in]
  B: Float32Array; // [out, r]
}

export function loraScaling(cfg: LoraConfig): number {
  return cfg.lora_alpha / cfg.r;
}

/** PEFT's shorthand for every linear layer but the output layer. */
export const ALL_LINEAR = 'all-linear';

/** A module's path within its layer, as PEFT matches it (`self_attn.q_proj`, `mlp.experts.3.up_proj`). */
function inLayerPath(model: LlamaConfig, module: string): string {
  return decoderArchitecture(model).linearPath(0, module).slice('model.layers.0.'.length);
}

/** PEFT's rule: a target name selects a module whose path equals it or ends with `.<name>`. */
function selects(model: LlamaConfig, name: string, module: string): boolean {
  const path = inLayerPath(model, module);
  return path === name || path.endsWith(`.${name}`);
}

/**
 * Resolves target module names as PEFT does (a name selects every linear module whose path it
 * equals or ends with after a dot: `gate_proj` selects each expert's `mlp.experts.3.gate_proj` and
 * the shared expert's in an MoE layer, `shared_expert.gate_proj` only the latter; `all-linear`
 * every linear of the layer) and returns the selected modules in layer order. A name that selects
 * nothing is an error (PEFT ignores it when another name matches; here it is more likely a typo,
 * and a silently smaller adapter is worse than a message).
 */
export function resolveTargetModules(model: LlamaConfig, names: readonly string[] | string): string[] {
  const arch = decoderArchitecture(model);
  const modules = arch.linearModules(model);
  if (typeof names === 'string') {
    if (names === ALL_LINEAR) return [...modules];
    throw new UserError('unknown-target-module', `target_modules: "${names}" must be a list of module names or "${ALL_LINEAR}"`);
  }
  if (names.length === 0) throw new UserError('unknown-target-module', 'target_modules must name at least one module');
  const unknown = names.filter((n) => !modules.some((m) => selects(model, n, m)));
  if (unknown.length > 0) {
    const known = [...new Set(modules.map((m) => m.replace(/\.\d+\./, '.*.')))];
    throw new UserError('unknown-target-module', `target_modules: ${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a linear module of a ${arch.modelType} layer (known: ${known.join(', ')}, or "${ALL_LINEAR}")`);
  }
  return modules.filter((m) => names.some((n) => selects(model, n, m)));
}

/**
 * The target_modules an adapter_config.json names for the adapted `modules`: per module the
 * shortest path suffix (its leaf name where it can) that selects no module left out, in layer
 * order without repeats. For llama's seven that is the seven names; for an MoE layer adapted
 * whole, `gate_proj` etc. once for every expert and the shared expert.
 */
export function peftTargetNames(model: LlamaConfig, modules: readonly string[]): string[] {
  const all = decoderArchitecture(model).linearModules(model);
  const names: string[] = [];
  for (const m of modules) {
    const parts = inLayerPath(model, m).split('.');
    let name = parts.at(-1)!;
    for (let i = parts.length - 2; i >= 0 && all.some((o) => !modules.includes(o) && selects(model, name, o)); i--) name = `${parts[i]}.${name}`;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/**
 * Every adapted module, layer-major then in the layer's module order (the order of the optimizer's
 * flat buffer), with the dropout mask each reads: its own [N, in], or for an MoE expert the one
 * [N·k, in] its layer's experts share per projection (architectures/qwen2-moe.ts).
 */
export function loraSites(model: LlamaConfig, lora: LoraConfig): LoraSite[] {
  const arch = decoderArchitecture(model);
  const sites: LoraSite[] = [];
  const slots = new Map<string, number>();
  for (let layer = 0; layer < model.numHiddenLayers; layer++) {
    for (const module of arch.linearModules(model)) {
      if (!lora.target_modules.includes(module)) continue;
      const [outDim, inDim] = arch.linearShape(model, module);
      const kind = arch.routing?.maskKind(module);
      const key = kind === undefined ? `site:${sites.length}` : `${layer}:${kind}`;
      if (!slots.has(key)) slots.set(key, slots.size);
      sites.push({ layer, module, path: arch.linearPath(layer, module), inDim, outDim, maskSlot: slots.get(key)!, maskRows: kind === undefined ? 'tokens' : 'pairs' });
    }
  }
  return sites;
}

/** The dropout masks of a step (one per slot, in slot order): rows of tokens or of token–expert pairs, and the width. */
export function dropoutSlots(sites: readonly LoraSite[]): Array<{ rows: 'tokens' | 'pairs'; inDim: number }> {
  const slots: Array<{ rows: 'tokens' | 'pairs'; inDim: number }> = [];
  for (const s of sites) slots[s.maskSlot] ??= { rows: s.maskRows, inDim: s.inDim };
  return slots;
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
