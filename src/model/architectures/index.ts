/**
 * The registry of decoder architectures, by HF `model_type` (transformers.js v4's layout: one
 * file per architecture, listed here). config.ts parses a config.json into the shared config
 * shape; everything about the layer itself comes from the architecture file.
 */
import type { Architecture, LlamaConfig } from '../config.js';
import type { DecoderArchitecture } from './architecture.js';
import { llama } from './llama.js';
import { mistral } from './mistral.js';
import { phi } from './phi.js';
import { qwen2Moe } from './qwen2-moe.js';
import { qwen2 } from './qwen2.js';
import { InternalError } from '../../core/errors.js';

export type { DecoderArchitecture, SavedActivation, SavedDim, TensorSpec } from './architecture.js';

const ARCHITECTURES: Readonly<Record<Architecture, DecoderArchitecture>> = { llama, mistral, qwen2, phi, qwen2_moe: qwen2Moe };

/** The architecture serving a config.json `model_type`, if any. */
export function architectureFor(modelType: unknown): DecoderArchitecture | undefined {
  return typeof modelType === 'string' && Object.hasOwn(ARCHITECTURES, modelType) ? ARCHITECTURES[modelType as Architecture] : undefined;
}

/** The architecture of a parsed config. */
export function decoderArchitecture(cfg: Pick<LlamaConfig, 'architecture'>): DecoderArchitecture {
  const arch = ARCHITECTURES[cfg.architecture];
  if (!arch) throw new InternalError(`no decoder architecture "${String(cfg.architecture)}" (known: ${Object.keys(ARCHITECTURES).join(', ')})`);
  return arch;
}

/**
 * Every tensor a checkpoint of this shape holds, with its shape (HF names), in checkpoint order:
 * the embedding; per layer its tensors, then each linear's weight (and bias); the head's tensors;
 * an untied LM head.
 */
export function expectedWeights(cfg: LlamaConfig): Map<string, number[]> {
  const arch = decoderArchitecture(cfg);
  const C = cfg.hiddenSize;
  const w = new Map<string, number[]>();
  w.set(arch.embedding, [cfg.vocabSize, C]);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    for (const t of arch.layerTensors(cfg)) w.set(`model.layers.${l}.${t.name}`, t.shape);
    for (const m of arch.linearModules(cfg)) {
      const path = arch.linearPath(l, m);
      const shape = arch.linearShape(cfg, m);
      w.set(`${path}.weight`, shape);
      if (arch.linearBias(cfg, m)) w.set(`${path}.bias`, [shape[0]]);
    }
  }
  for (const t of arch.headTensors(cfg)) w.set(t.name, t.shape);
  const lmHead = arch.lmHead(cfg).weight;
  if (lmHead !== arch.embedding) w.set(lmHead, [cfg.vocabSize, C]);
  return w;
}

/** The decoder linears' weights (`<path>.weight`) that quantization and QLoRA quantize (all but the architecture's `unquantized`). */
export function linearWeightNames(cfg: LlamaConfig): Set<string> {
  const arch = decoderArchitecture(cfg);
  const names = new Set<string>();
  for (let l = 0; l < cfg.numHiddenLayers; l++) for (const m of arch.linearModules(cfg)) if (!arch.unquantized?.includes(m)) names.add(`${arch.linearPath(l, m)}.weight`);
  return names;
}
