/**
 * A linear layer y = x · Wᵀ + b on Hugging Face's [out, in] weights, as a forward/backward pair,
 * with x [N, in] (callers flatten batch × time) and y [N, out]. A float W runs as Gemm(transB)
 * forward and MatMul backward (no transposed copy); a quantized W runs as MatMulNBits
 * (com.microsoft) on its codes (matMulNBits below, inference only). Modules that share an input
 * (q/k/v, gate/up) may run as one linear on their row-concatenated weights, split afterwards
 * (splitColumns).
 */
import type { GraphBuilder } from '../onnx/builder.js';
import type { NBitsWeight } from '../quantize/nbits.js';

/** How a graph reads a linear's weight. */
export interface LinearWeight {
  /** W [out, in] float32: forward Gemm, and the backward's dx = dy·W. */
  float: string;
  /** b [out]. */
  bias?: string;
}

/** y = x · Wᵀ + b: one Gemm, the bias as its C. */
export function linearForward(g: GraphBuilder, x: string, w: LinearWeight): string {
  return g.op('Gemm', w.bias ? [x, w.float, w.bias] : [x, w.float], { transB: 1 });
}

/**
 * Backward of linearForward for dy [N, out] and the float weight W [out, in]: dx = dy · W [N, in].
 * With the input x (full fine-tuning trains W and b) also dW = dyᵀ · x [out, in] and, for a
 * linear with a bias, db = Σ_rows dy [out].
 */
export function linearBackward(g: GraphBuilder, dy: string, W: string, options: { x?: string; bias?: boolean } = {}): { dx: string; dW?: string; db?: string } {
  const dx = g.matMul(dy, W);
  if (options.x === undefined) return { dx };
  const dW = g.op('Gemm', [dy, options.x], { transA: 1 });
  const db = options.bias ? g.op('ReduceSum', [dy, g.constInt64([0])], { keepdims: 0 }) : undefined;
  return { dx, dW, db };
}

/** The outputs of modules fused into one linear: y [N, Σ widths] → one [N, width] per module (y itself for one). */
export function splitColumns(g: GraphBuilder, y: string, widths: number[]): string[] {
  return widths.length === 1 ? [y] : (g.op('Split', [y, g.constInt64(widths)], { axis: 1 }, { outputs: widths.length }) as string[]);
}

/** A MatMulNBits weight's codes, scales and zero points as graph values, with its shape. */
export interface NBitsValues {
  codes: string; // uint8 [N, K / blockSize, blockSize · bits / 8]
  scales: string; // float32 [N, K / blockSize]
  zeroPoints?: string; // uint8 [N, ceil(K / blockSize · bits / 8)]
  N: number;
  K: number;
  bits: number;
  blockSize: number;
}

/** Adds a quantized weight's tensors as initializers under the given names. */
export function nbitsInitializers(g: GraphBuilder, names: { codes: string; scales: string; zeroPoints: string }, q: NBitsWeight): NBitsValues {
  const blob = (q.blockSize * q.bits) / 8;
  const codes = g.rawInitializer(names.codes, 'uint8', [q.N, q.nBlocks, blob], q.codes);
  const scales = g.rawInitializer(names.scales, 'float32', [q.N, q.nBlocks], new Uint8Array(q.scales.buffer, q.scales.byteOffset, q.scales.byteLength));
  const zeroPoints = q.zeroPoints ? g.rawInitializer(names.zeroPoints, 'uint8', [q.N, q.zeroPoints.length / q.N], q.zeroPoints) : undefined;
  return { codes, scales, zeroPoints, N: q.N, K: q.K, bits: q.bits, blockSize: q.blockSize };
}

/**
 * x [..., K] · dequant(W)ᵀ → [..., N] without materialising W. accuracy_level 0 computes in
 * float32; 4 lets onnxruntime quantize the activations to int8 (faster, less exact).
 */
export function matMulNBits(g: GraphBuilder, x: string, w: NBitsValues, accuracyLevel = 0): string {
  const inputs = [x, w.codes, w.scales];
  if (w.zeroPoints) inputs.push(w.zeroPoints);
  return g.op('MatMulNBits', inputs, { K: w.K, N: w.N, bits: w.bits, block_size: w.blockSize, accuracy_level: accuracyLevel }, { domain: 'com.microsoft' });
}
