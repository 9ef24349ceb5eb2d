import { deriveSeed, Prng } from '../../core/prng.js';
import { expectedWeights } from '../architectures/index.js';
import type { LlamaConfig } from '../config.js';
import { fromFloat32 } from '../dtype-convert.js';
import type { HostTensor } from '../tensor.js';
import type { LazyTensor } from '../safetensors/write.js';

/**
 * Seeded random weights for a llama-family shape, as HF's `_init_weights` does for a fresh
 * model: every linear and the embedding ~ N(0, initializer_range²) (0.02), biases 0, RMSNorm
 * weights 1. Each tensor draws from its own stream, seeded by (seed, tensor name), so a tensor's
 * values do not depend on which other tensors exist or the order they are made in — and a caller
 * can make one tensor at a time (initLlamaWeight) to bound memory for the 1.1B shape.
 */
export const INITIALIZER_RANGE = 0.02;

export interface InitOptions {
  /** Storage dtype of the weights (values are drawn in float32 either way). Default F32. */
  dtype?: 'F32' | 'F16' | 'BF16';
  initializerRange?: number;
}

/** All weights of expectedWeights(cfg), in module order (embedding, layers, norm, lm_head). */
export function initLlamaWeights(cfg: LlamaConfig, seed: number, options: InitOptions = {}): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, shape] of expectedWeights(cfg)) out.set(name, initLlamaWeight(name, shape, seed, options));
  return out;
}

/**
 * The same weights, each made only when loaded: writeModelDir then holds one tensor at a time
 * (the 1.1B shape in float32 is 4.4 GB). Values equal initLlamaWeights' exactly.
 */
export function lazyLlamaWeights(cfg: LlamaConfig, seed: number, options: InitOptions = {}): Map<string, LazyTensor> {
  const out = new Map<string, LazyTensor>();
  const dtype = options.dtype ?? 'F32';
  for (const [name, shape] of expectedWeights(cfg)) out.set(name, { dtype, shape, load: () => initLlamaWeight(name, shape, seed, options) });
  return out;
}

/** One weight tensor, drawn from the stream named by `name`. */
export function initLlamaWeight(name: string, shape: number[], seed: number, options: InitOptions = {}): HostTensor {
  let n = 1;
  for (const d of shape) n *= d;
  const values = new Float32Array(n);
  if (name.endsWith('norm.weight')) values.fill(1);
  else if (!name.endsWith('.bias')) fillNormal(values, new Prng(deriveSeed(seed, name)), options.initializerRange ?? INITIALIZER_RANGE);
  return fromFloat32(values, shape, options.dtype ?? 'F32');
}

/**
 * values[i] ~ N(0, std²). The stream is xoshiro128** (the same generator as core/prng.ts) seeded
 * from `prng`, inlined on local state: Prng.normal() costs ~120 ns a draw, far too slow for the
 * 1.1B shape; this loop runs ~10× faster. Normals by the Marsaglia polar method, both outputs used;
 * a uniform is 32 bits (enough for weight init; the polar method rejects u = v = 0).
 */
export function fillNormal(values: Float32Array, prng: Prng, std: number): void {
  let s0 = prng.nextU32() | 0, s1 = prng.nextU32() | 0, s2 = prng.nextU32() | 0, s3 = prng.nextU32() | 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const SCALE = 2 / 4294967296;
  const n = values.length;
  let i = 0;
  while (i < n) {
    // two uniforms in (-1, 1)
    let r = Math.imul(((Math.imul(s1, 5) << 7) | (Math.imul(s1, 5) >>> 25)), 9);
    let t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
    const u = (r >>> 0) * SCALE - 1;
    r = Math.imul(((Math.imul(s1, 5) << 7) | (Math.imul(s1, 5) >>> 25)), 9);
    t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
    const v = (r >>> 0) * SCALE - 1;
    const s = u * u + v * v;
    if (s >= 1 || s === 0) continue;
    const m = Math.sqrt((-2 * Math.log(s)) / s) * std;
    values[i++] = u * m;
    if (i < n) values[i++] = v * m;
  }
}
