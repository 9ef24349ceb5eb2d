import type { GraphBuilder } from '../onnx/builder.js';
import type { HostTensor } from '../tensor.js';
import { toFloat32 } from '../tensor.js';
import { quantizeNBits, type NBitsOptions, type NBitsWeight } from '../quantize/nbits.js';

/** A LoRA side branch on one linear module: y += scaling · (x · Aᵀ) · Bᵀ. */
export interface LoraBranch {
  /** [r, in] */
  A: HostTensor;
  /** [out, r] */
  B: HostTensor;
  /** lora_alpha / r */
  scaling: number;
}

export interface LinearSpec {
  /** HF module path, e.g. `model.layers.0.self_attn.q_proj`; names the initializers. */
  path: string;
  /** [out, in], HF layout. */
  weight: HostTensor;
  bias?: HostTensor;
  /** Quantize the weight into MatMulNBits (com.microsoft) instead of a float Gemm. */
  quantization?: NBitsOptions & { accuracyLevel?: number };
  lora?: LoraBranch;
}

/**
 * Emits y = x · Wᵀ (+ b) (+ LoRA branch) for x: [N, in] (2-D; callers flatten batch × time).
 * Float weights stay in HF layout [out, in] and run as Gemm(transB=1), so no host transpose is
 * needed; quantized weights become MatMulNBits(x, codes, scales[, zero_points]).
 */
export function emitLinear(g: GraphBuilder, x: string, spec: LinearSpec): string {
  const [out, inDim] = spec.weight.shape as [number, number];
  let y: string;
  if (spec.quantization) {
    const q = quantizeNBits(toFloat32(spec.weight), out, inDim, spec.quantization);
    y = emitMatMulNBits(g, x, spec.path, q, spec.quantization.accuracyLevel ?? 0);
    if (spec.bias) y = g.add(y, g.initializer(`${spec.path}.bias`, asF32(spec.bias)));
  } else {
    const w = g.initializer(`${spec.path}.weight`, asF32(spec.weight));
    const b = spec.bias ? g.initializer(`${spec.path}.bias`, asF32(spec.bias)) : undefined;
    y = g.gemmTransB(x, w, b);
  }
  if (spec.lora) {
    const { A, B, scaling } = spec.lora;
    const a = g.initializer(`${spec.path}.lora_A.weight`, asF32(A));
    const bScaled = scaleTensor(B, scaling); // fold the scaling into B once, on the host
    const b = g.initializer(`${spec.path}.lora_B.weight`, bScaled);
    y = g.add(y, g.gemmTransB(g.gemmTransB(x, a), b));
  }
  return y;
}

/** MatMulNBits node for a quantized [N, K] weight; x: [..., K] → [..., N]. */
export function emitMatMulNBits(g: GraphBuilder, x: string, path: string, q: NBitsWeight, accuracyLevel = 0): string {
  const blob = (q.blockSize * q.bits) / 8;
  const codes = g.rawInitializer(`${path}.weight_q`, 'uint8', [q.N, q.nBlocks, blob], q.codes);
  const scales = g.rawInitializer(`${path}.weight_scales`, 'float32', [q.N, q.nBlocks], new Uint8Array(q.scales.buffer, q.scales.byteOffset, q.scales.byteLength));
  const inputs = [x, codes, scales];
  if (q.zeroPoints) inputs.push(g.rawInitializer(`${path}.weight_zp`, 'uint8', [q.N, q.zeroPoints.length / q.N], q.zeroPoints));
  return g.op('MatMulNBits', inputs, { K: q.K, N: q.N, bits: q.bits, block_size: q.blockSize, accuracy_level: accuracyLevel }, { domain: 'com.microsoft' });
}

function scaleTensor(t: HostTensor, s: number): HostTensor {
  const src = toFloat32(t);
  const data = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) data[i] = src[i]! * s;
  return { dtype: 'F32', shape: [...t.shape], data };
}

/** A float32 view or copy (F16/BF16/F64 weights are widened; ONNX Gemm here runs in float32). */
export function asF32(t: HostTensor): HostTensor {
  return t.dtype === 'F32' ? t : { dtype: 'F32', shape: [...t.shape], data: toFloat32(t) };
}
