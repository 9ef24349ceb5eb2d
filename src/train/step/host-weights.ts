/**
 * The frozen base as the training step holds it on the host: per layer, its tensors (norm gains)
 * and its linear groups fused row-wise (q/k/v, gate/up: one buffer each), float32 or 4-bit in
 * MatMulNBits' layout; the embedding; the head's tensors. The graphs are fed views of these
 * buffers, zero-copy, and full fine-tuning updates them in place.
 */
import type { DecoderArchitecture } from '../../model/architectures/index.js';
import type { LlamaConfig } from '../../model/config.js';
import type { NBitsWeight } from '../../model/quantize/nbits.js';
import { toFloat32, type HostTensor } from '../../model/tensor.js';
import type { GroupQuantized, LinearGroup } from '../graphs/spec.js';
import { InternalError } from '../../core/errors.js';

/** The frozen base: float tensors by HF name; decoder linears may instead be int4 (MatMulNBits layout). */
export interface BaseModel {
  config: LlamaConfig;
  /** Embedding, norms, lm_head, biases, and the float decoder linears. */
  weights: Map<string, HostTensor>;
  /** Quantized decoder linears by module path (`model.layers.0.self_attn.q_proj`). */
  quantized?: Map<string, NBitsWeight>;
}

/** One layer's weights. */
export interface HostLayer {
  /** Layer tensors by name under the layer prefix (`input_layernorm.weight`). */
  tensors: Map<string, Float32Array>;
  /** Fused float weights [rows, in] by group (a float base; in a 4-bit base the groups kept float). */
  float?: Map<string, Float32Array>;
  /** Fused 4-bit weights by group (4-bit base): the backward dequantizes them into scratch buffers. */
  quantized?: Map<string, GroupQuantized>;
  /** Fused biases [rows] by group, for the groups with biases. */
  biases: Map<string, Float32Array>;
}

export interface HostWeights {
  layers: HostLayer[];
  /** [V, C] */
  embed: Float32Array;
  /** The head's tensors by HF name: the final norm's and the LM head (the embed buffer itself when tied). */
  head: Map<string, Float32Array>;
}

/**
 * Takes the base apart into the step's buffers. `consume`: delete the decoder linears from
 * `base.weights` / `base.quantized` once fused, so a large base is not held twice.
 */
export function hostWeights(base: BaseModel, arch: DecoderArchitecture, groups: LinearGroup[], consume: boolean): HostWeights {
  const cfg = base.config;
  checkQuantized(base);
  const f32 = (name: string): Float32Array => {
    const t = base.weights.get(name);
    if (!t) throw new InternalError(`training step: missing base weight ${name}`);
    return t.dtype === 'F32' ? (t.data as Float32Array) : toFloat32(t);
  };
  const layers: HostLayer[] = [];
  for (let l = 0; l < cfg.numHiddenLayers; l++) layers.push(hostLayer(base, arch, groups, l, f32, consume));
  const embed = f32(arch.embedding);
  const head = new Map(arch.headTensors(cfg).map((t) => [t.name, f32(t.name)]));
  const lmHead = arch.lmHead(cfg).weight;
  head.set(lmHead, lmHead === arch.embedding ? embed : f32(lmHead));
  return { layers, embed, head };
}

function hostLayer(base: BaseModel, arch: DecoderArchitecture, groups: LinearGroup[], l: number, f32: (name: string) => Float32Array, consume: boolean): HostLayer {
  const cfg = base.config;
  const prefix = `model.layers.${l}`;
  const layer: HostLayer = { tensors: new Map(arch.layerTensors(cfg).map((t) => [t.name, f32(`${prefix}.${t.name}`)])), biases: new Map() };
  const paths = (group: LinearGroup): string[] => group.modules.map((m) => arch.linearPath(l, m));
  for (const group of groups) if (group.bias) layer.biases.set(group.name, concat(paths(group).map((path) => f32(`${path}.bias`))));
  // A group is 4-bit when its modules are (a quantized base keeps a few small linears float: an MoE router).
  const isQuantized = (group: LinearGroup): boolean => paths(group).some((path) => base.quantized?.has(path));
  for (const group of groups) {
    if (isQuantized(group)) {
      const q = fuseQuantized(base, paths(group));
      if (q.N !== group.rows || q.K !== group.inDim) throw new InternalError(`training step: layer ${l}'s ${group.name} weight is 4-bit [${q.N}, ${q.K}], expected [${group.rows}, ${group.inDim}]`);
      (layer.quantized ??= new Map()).set(group.name, q);
      if (consume) for (const path of paths(group)) base.quantized!.delete(path);
    } else {
      (layer.float ??= new Map()).set(group.name, concat(paths(group).map((path) => f32(`${path}.weight`))));
      if (consume) for (const path of paths(group)) base.weights.delete(`${path}.weight`);
    }
  }
  return layer;
}

/** The 4-bit weights of a group's modules as one MatMulNBits weight with Σ N rows. */
function fuseQuantized(base: BaseModel, paths: string[]): GroupQuantized {
  const qs = paths.map((path) => {
    const q = base.quantized!.get(path);
    if (!q) throw new InternalError(`training step: ${path} is not quantized while the rest of the base is`);
    return q;
  });
  const q0 = qs[0]!;
  if (qs.some((q) => q.blockSize !== q0.blockSize || q.K !== q0.K)) throw new InternalError(`training step: ${paths.join(', ')} disagree on block size or width`);
  const zpRow = Math.ceil(q0.nBlocks / 2);
  // Zero points are kept when any module has them; a symmetric module's are the midpoint 8.
  const zeroPoints = qs.some((q) => q.zeroPoints) ? concat(qs.map((q) => q.zeroPoints ?? new Uint8Array(q.N * zpRow).fill(0x88))) : undefined;
  return { ...q0, symmetric: zeroPoints === undefined, N: qs.reduce((s, q) => s + q.N, 0), codes: concat(qs.map((q) => q.codes)), scales: concat(qs.map((q) => q.scales)), zeroPoints };
}

function checkQuantized(base: BaseModel): void {
  for (const q of base.quantized?.values() ?? []) {
    if (q.bits !== 4) throw new InternalError(`training step: only 4-bit quantized bases train (got ${q.bits}-bit)`);
    if (q.K % q.blockSize !== 0) throw new InternalError(`training step: in-features ${q.K} not a multiple of block size ${q.blockSize}`);
  }
}

/** Concatenation of typed arrays of one kind (the array itself when there is one). */
function concat<T extends Float32Array | Uint8Array>(parts: T[]): T {
  if (parts.length === 1) return parts[0]!;
  const out = new (parts[0]!.constructor as new (n: number) => T)(parts.reduce((s, x) => s + x.length, 0));
  let off = 0;
  for (const x of parts) {
    out.set(x, off);
    off += x.length;
  }
  return out;
}
