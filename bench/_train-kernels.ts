/**
 * Feasibility micro-benchmarks for training on ONNX Runtime CPU: one-op ONNX graphs at the
 * TinyLlama-1.1B training shapes (tokens N = batch 4 × seq 256 = 1024), timed with the same
 * session options as training. Used by bench/train.ts (`npm run bench -- train kernels`).
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { Prng } from '../src/core/prng.js';
import { matMulNBits, nbitsInitializers } from '../src/model/blocks/linear.js';
import { GraphBuilder, type AttrValue } from '../src/model/onnx/index.js';
import { quantizeNBits } from '../src/model/quantize/nbits.js';
import { f32, type HostTensor } from '../src/model/tensor.js';

export interface KernelCase {
  name: string;
  op: string;
  /** Graph inputs fed each run: name → shape (float32). */
  inputs: Array<[string, number[]]>;
  /** Constant initializers: name → shape (float32, random). */
  weights?: Array<[string, number[]]>;
  attrs?: Record<string, AttrValue>;
  outputs?: number;
  /** Floating-point operations per run (matmuls: 2·M·N·K), 0 for memory-bound ops. */
  flops: number;
  /** Bytes read + written per run, for memory-bound ops. */
  bytes?: number;
  domain?: string;
  /** Output has input 0's shape: time by chain differencing. */
  chainable?: boolean;
  /**
   * A 4-bit weight instead of `weights`: the float [N, K] weight of that shape quantized as the
   * training bench's int4 base is (blocks of 32, symmetric) and run as MatMulNBits, accuracy level 0.
   */
  nbits?: [number, number];
}

export interface KernelTiming {
  name: string;
  ms: number;
  gflops: number;
  gbps: number;
}

function randomWeight(shape: number[], prng: Prng): HostTensor {
  const t = f32(shape);
  const data = t.data as Float32Array;
  for (let i = 0; i < data.length; i++) data[i] = (prng.next() - 0.5) * 0.04;
  return t;
}

/**
 * `k` copies of the op chained through input 0 (y1 = op(x, w), y2 = op(y1, w), ...), reduced to a
 * scalar so that the Node binding copies 4 bytes out, not the whole activation. Chaining needs an
 * op whose output has its input-0 shape; for the others k is 1.
 */
export function chainModel(c: KernelCase, k: number): Uint8Array {
  const prng = new Prng(1);
  const g = new GraphBuilder('kernel', { opsets: { '': 21 } });
  const inputs = c.inputs.map(([n, s]) => g.input(n, 'float32', s));
  const weights = (c.weights ?? []).map(([n, s]) => g.initializer(n, randomWeight(s, prng)));
  let prev = inputs[0]!;
  if (c.nbits) {
    const [N, K] = c.nbits;
    const q = quantizeNBits(randomWeight([N, K], prng).data as Float32Array, N, K, { bits: 4, blockSize: 32, symmetric: true });
    const w = nbitsInitializers(g, { codes: 'w_codes', scales: 'w_scales', zeroPoints: 'w_zp' }, q);
    for (let i = 0; i < k; i++) prev = matMulNBits(g, prev, w, 0);
  } else for (let i = 0; i < k; i++) prev = g.op(c.op, [prev, ...inputs.slice(1), ...weights], c.attrs, c.domain ? { domain: c.domain } : {});
  g.output(g.op('ReduceMax', [prev], { keepdims: 0 }), 's', 'float32', []);
  return g.toBytes();
}

async function kernelSession(model: Uint8Array, c: KernelCase, threads: number): Promise<{ session: ort.InferenceSession; feeds: Record<string, ort.Tensor> }> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const prng = new Prng(2);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [n, s] of c.inputs) {
    const data = new Float32Array(s.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (prng.next() - 0.5) * 0.1;
    feeds[n] = new ort.Tensor('float32', data, s);
  }
  return { session, feeds };
}

/**
 * The average rate of matmul cases run back to back, in turn, for `seconds`: what the cores
 * sustain at these shapes over a training step's duration (a best-of-3 burst reads 15–25 %
 * higher on this machine: clocks and neighbours vary over tens of seconds).
 */
export async function sustainedGflops(cases: KernelCase[], threads: number, seconds: number): Promise<number> {
  const runs = await Promise.all(cases.map((c) => kernelSession(chainModel(c, 1), c, threads)));
  for (const r of runs) await r.session.run(r.feeds);
  let flops = 0;
  const t0 = performance.now();
  for (let i = 0; performance.now() - t0 < seconds * 1000; i = (i + 1) % runs.length) {
    await runs[i]!.session.run(runs[i]!.feeds);
    flops += cases[i]!.flops;
  }
  const elapsed = (performance.now() - t0) / 1000;
  for (const r of runs) await r.session.release();
  return flops / elapsed / 1e9;
}

async function bestRunMs(model: Uint8Array, c: KernelCase, threads: number, reps: number): Promise<number> {
  const { session, feeds } = await kernelSession(model, c, threads);
  await session.run(feeds);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  await session.release();
  times.sort((a, b) => a - b);
  // The best run: other processes share these cores, and a ceiling is what the hardware can do.
  return times[0]!;
}

/**
 * Time of one op: for chainable ops (output shape = input-0 shape) the difference between a
 * chain of 9 and a chain of 1, divided by 8, which cancels the input copy and session overhead;
 * otherwise one op plus a scalar ReduceMax (one extra read of the output, small beside a matmul).
 */
export async function timeKernel(c: KernelCase, threads: number, reps = 5): Promise<KernelTiming> {
  let ms: number;
  if (c.chainable) {
    const one = await bestRunMs(chainModel(c, 1), c, threads, reps);
    const nine = await bestRunMs(chainModel(c, 9), c, threads, reps);
    ms = Math.max(1e-3, (nine - one) / 8);
  } else {
    ms = await bestRunMs(chainModel(c, 1), c, threads, reps);
  }
  return { name: c.name, ms, gflops: c.flops / ms / 1e6, gbps: (c.bytes ?? 0) / ms / 1e6 };
}

/**
 * The 1.1B shapes: C 2048, F 5632, KV width 256 (4 KV heads × 64), H 32, T 256, B 4, V 32000, r 16.
 * Forward base projections are Gemm(transB) on [out, in] weights; the backward data-gradient of
 * a frozen weight is MatMul(dY, W) on the same initializer.
 */
export function trainingShapeCases(N = 1024, C = 2048, F = 5632, KV = 256, H = 32, T = 256, V = 32000, r = 16): KernelCase[] {
  const B = N / T;
  const mm = (name: string, M: number, K: number, Nout: number, transB: boolean): KernelCase =>
    transB
      ? { name, op: 'Gemm', inputs: [['x', [M, K]]], weights: [['w', [Nout, K]]], attrs: { transB: 1 }, flops: 2 * M * K * Nout }
      : { name, op: 'MatMul', inputs: [['x', [M, K]]], weights: [['w', [K, Nout]]], flops: 2 * M * K * Nout };
  // The int4 base's forward: the same x·Wᵀ on the weight's 4-bit codes (prepacked by ORT at load).
  const nb = (name: string, M: number, K: number, Nout: number): KernelCase => ({ name, op: 'MatMulNBits', inputs: [['x', [M, K]]], nbits: [Nout, K], flops: 2 * M * K * Nout });
  const f4 = 4;
  return [
    mm(`fwd q/o  x·Wᵀ [${N},${C}]×[${C},${C}]ᵀ`, N, C, C, true),
    nb(`fwd q/o  int4 MatMulNBits [${N},${C}]×[${C},${C}]ᵀ`, N, C, C),
    mm(`fwd k/v  x·Wᵀ [${N},${C}]×[${KV},${C}]ᵀ`, N, C, KV, true),
    nb(`fwd k/v  int4 MatMulNBits [${N},${C}]×[${KV},${C}]ᵀ`, N, C, KV),
    mm(`fwd gate/up x·Wᵀ [${N},${C}]×[${F},${C}]ᵀ`, N, C, F, true),
    nb(`fwd gate/up int4 MatMulNBits [${N},${C}]×[${F},${C}]ᵀ`, N, C, F),
    mm(`fwd down x·Wᵀ [${N},${F}]×[${C},${F}]ᵀ`, N, F, C, true),
    nb(`fwd down int4 MatMulNBits [${N},${F}]×[${C},${F}]ᵀ`, N, F, C),
    mm(`bwd dX q/o dY·W [${N},${C}]×[${C},${C}]`, N, C, C, false),
    mm(`bwd dX gate/up dY·W [${N},${F}]×[${F},${C}]`, N, F, C, false),
    mm(`bwd dX down dY·W [${N},${C}]×[${C},${F}]`, N, C, F, false),
    mm(`lm_head x·Wᵀ [${N},${C}]×[${V},${C}]ᵀ`, N, C, V, true),
    mm(`lora x·Aᵀ [${N},${C}]×[${r},${C}]ᵀ`, N, C, r, true),
    mm(`lora u·Bᵀ [${N},${r}]×[${F},${r}]ᵀ`, N, r, F, true),
    { name: `lora dB = dYᵀ·u [${F},${N}]×[${N},${r}]`, op: 'MatMul', inputs: [['a', [F, N]], ['b', [N, r]]], flops: 2 * F * N * r },
    { name: `attn QKᵀ [${B * H},${T},64]×[${B * H},64,${T}]`, op: 'MatMul', inputs: [['a', [B * H, T, 64]], ['b', [B * H, 64, T]]], flops: 2 * B * H * T * T * 64 },
    { name: `attn P·V [${B * H},${T},${T}]×[${B * H},${T},64]`, op: 'MatMul', inputs: [['a', [B * H, T, T]], ['b', [B * H, T, 64]]], flops: 2 * B * H * T * T * 64 },
    { name: `softmax [${B},${H},${T},${T}]`, op: 'Softmax', inputs: [['x', [B, H, T, T]]], attrs: { axis: -1 }, chainable: true, flops: 0, bytes: 2 * B * H * T * T * f4 },
    { name: `softmax [${N},${V}] (loss)`, op: 'Softmax', inputs: [['x', [N, V]]], attrs: { axis: -1 }, chainable: true, flops: 0, bytes: 2 * N * V * f4 },
    { name: `RMSNorm (SimplifiedLayerNormalization) [${N},${C}]`, op: 'SimplifiedLayerNormalization', inputs: [['x', [N, C]]], weights: [['g', [C]]], attrs: { axis: -1, epsilon: 1e-5 }, chainable: true, flops: 0, bytes: 2 * N * C * f4 },
    { name: `Mul [${N},${F}]`, op: 'Mul', inputs: [['a', [N, F]], ['b', [N, F]]], chainable: true, flops: 0, bytes: 3 * N * F * f4 },
    { name: `Sigmoid [${N},${F}]`, op: 'Sigmoid', inputs: [['x', [N, F]]], chainable: true, flops: 0, bytes: 2 * N * F * f4 },
    { name: `Transpose [${B},${T},${H},64]→[${B},${H},${T},64]`, op: 'Transpose', inputs: [['x', [B, T, H, 64]]], attrs: { perm: [0, 2, 1, 3] }, flops: 0, bytes: 2 * N * C * f4 },
  ];
}
