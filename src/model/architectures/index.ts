/**
 * The registry of decoder architectures, by HF `model_type` (transformers.js v4's layout: one
 * file per architecture, listed here). config.ts parses a config.json into the shared config
 * shape; everything about the layer itself comes from the architecture file.
 */
import type { Architecture, LlamaConfig } from '../config.js';
import type { DecoderArchitecture } from './architecture.js';
import { llama } from './llama.js';
import { mistral } from './mistral.js';
import { qwen2 } from './qwen2.js';

export type { DecoderArchitecture, SavedActivation, SavedDim, TensorSpec } from './architecture.js';

const ARCHITECTURES: Readonly<Record<Architecture, DecoderArchitecture>> = { llama, mistral, qwen2 };

/** The architecture of a parsed config. */
export function decoderArchitecture(cfg: Pick<LlamaConfig, 'architecture'>): DecoderArchitecture {
  const arch = ARCHITECTURES[cfg.architecture];
  if (!arch) throw new Error(`no decoder architecture "${String(cfg.architecture)}" (known: ${Object.keys(ARCHITECTURES).join(', ')})`);
  return arch;
}
