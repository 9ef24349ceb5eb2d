/**
 * The optimizer's element loops on WebAssembly 128-bit SIMD (optimizer-kernels.wat): the same IEEE
 * double operations in the same order as the float64 JavaScript loops they replace
 * (optimizer-reference.ts), two lanes at a time, so every float32 they store is the same, bit for
 * bit, on every machine (NaN payloads aside). At the small-25m shape AdamW 1.7×, the norm pass
 * 2.1×, accumulation 3× faster (`npm run bench -- optimizer`, docs/training.md): the float64 divides
 * and square root bound the AdamW kernel, memory bandwidth and the copies the whole.
 *
 * The tensors stay where they are (the step's buffers, which ONNX Runtime reads): each is copied in
 * chunks of CHUNK elements into a scratch area of the module's memory, updated there and copied
 * back. One instance per thread, made on first use; its memory never grows, so the views stay valid.
 */
import { WasmKernels } from '../core/wasm.js';
import { OPTIMIZER_KERNELS_WASM } from './optimizer-kernels.wasm.js';

/** Elements per chunk: four float32 scratch arrays of 2048 (32 KiB) stay in the L1 cache. */
export const CHUNK = 2048;

interface KernelExports {
  memory: { buffer: ArrayBuffer };
  adamw(p: number, g: number, m: number, v: number, n: number, clip: number, unit1: number, unit2: number, coef: number, beta1: number, c1: number, beta2: number, c2: number, bc1: number, bc2: number, lr: number, eps: number, decay: number): void;
  scaleAndSquares(g: number, n: number, tokens: number, ss: number): number;
  addInto(acc: number, x: number, n: number): void;
}

interface Scratch {
  k: KernelExports;
  /** Four float32 arrays of CHUNK at byte offsets 0, 4·CHUNK, 8·CHUNK, 12·CHUNK. */
  P: Float32Array;
  G: Float32Array;
  M: Float32Array;
  V: Float32Array;
}

const BYTES = 4 * CHUNK;
const optimizerKernels = new WasmKernels<KernelExports>(OPTIMIZER_KERNELS_WASM);
let scratch: Scratch | undefined;

/** Whether this engine runs the kernels (core/wasm.ts); elsewhere the caller runs the reference loops. */
export function wasmKernelsAvailable(): boolean {
  return optimizerKernels.available();
}

function kernels(): Scratch {
  if (scratch) return scratch;
  const k = optimizerKernels.get();
  const all = new Float32Array(k.memory.buffer, 0, 4 * CHUNK); // the module declares one 64 KiB page
  scratch = { k, P: all.subarray(0, CHUNK), G: all.subarray(CHUNK, 2 * CHUNK), M: all.subarray(2 * CHUNK, 3 * CHUNK), V: all.subarray(3 * CHUNK, 4 * CHUNK) };
  return scratch;
}

/** The first `len` elements of a scratch array (the whole array when len = CHUNK). */
const head = (a: Float32Array, len: number): Float32Array => (len === CHUNK ? a : a.subarray(0, len));

/** g ← f32(g / tokens) in place over every tensor, and ss + Σ g² in element order (float64). */
export function scaleAndSumSquares(grads: Float32Array[], tokens: number, ss: number): number {
  const { k, G } = kernels();
  for (const g of grads)
    for (let off = 0; off < g.length; off += CHUNK) {
      const len = Math.min(CHUNK, g.length - off);
      G.set(g.subarray(off, off + len));
      ss = k.scaleAndSquares(BYTES, len, tokens, ss);
      g.set(head(G, len), off);
    }
  return ss;
}

/** Constants of one AdamW step, each computed in float64 as the JavaScript loop computes it. */
export interface AdamWStepConstants {
  /** Whether to clip, and the factor g is multiplied by (then rounded to float32) if so. */
  clip: boolean;
  coef: number;
  beta1: number;
  beta2: number;
  /** 1 − β₁, 1 − β₂ */
  c1: number;
  c2: number;
  /** Bias corrections 1 − β₁ᵗ, 1 − β₂ᵗ. */
  bc1: number;
  bc2: number;
  lr: number;
  eps: number;
}

/** One (clipped) AdamW update of a tensor in place; `decay` = 1 − lr·weight_decay (or 1). */
export function adamWTensor(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, decay: number, c: AdamWStepConstants): void {
  const { k, P, G, M, V } = kernels();
  const clip = c.clip ? 1 : 0;
  const unit1 = c.bc1 === 1 ? 1 : 0, unit2 = c.bc2 === 1 ? 1 : 0; // x / 1 = x: the kernel skips that divide
  for (let off = 0; off < param.length; off += CHUNK) {
    const len = Math.min(CHUNK, param.length - off), end = off + len;
    P.set(param.subarray(off, end));
    G.set(grad.subarray(off, end));
    M.set(m.subarray(off, end));
    V.set(v.subarray(off, end));
    // An odd length runs one lane past the data, on stale scratch values that are never copied back.
    k.adamw(0, BYTES, 2 * BYTES, 3 * BYTES, (len + 1) & ~1, clip, unit1, unit2, c.coef, c.beta1, c.c1, c.beta2, c.c2, c.bc1, c.bc2, c.lr, c.eps, decay);
    param.set(head(P, len), off);
    m.set(head(M, len), off);
    v.set(head(V, len), off);
    if (c.clip) grad.set(head(G, len), off);
  }
}

/** acc += x element-wise (float32 sums, as f32(f64(a) + f64(b))). */
export function addIntoWasm(acc: Float32Array, x: Float32Array): void {
  const { k, P, G } = kernels();
  for (let off = 0; off < acc.length; off += CHUNK) {
    const len = Math.min(CHUNK, acc.length - off), end = off + len;
    P.set(acc.subarray(off, end));
    G.set(x.subarray(off, end));
    k.addInto(0, BYTES, (len + 3) & ~3); // up to 3 lanes past the data, never copied back
    acc.set(head(P, len), off);
  }
}
