/**
 * The optimizer's element loops on WebAssembly 128-bit SIMD (optimizer-kernels.wat): the same IEEE
 * double operations in the same order as the float64 JavaScript loops they replace
 * (optimizer-reference.ts), two lanes at a time, so every float32 they store is the same, bit for
 * bit, on every machine; about 2× faster (bench/optimizer.ts; the float64 divides and square root
 * bound the kernel, memory bandwidth the whole).
 *
 * The trained tensors and their gradients stay where they are (the step's buffers, which ONNX Runtime
 * reads): each is copied in chunks of CHUNK elements into a scratch area of the module's memory,
 * updated there and copied back. The AdamW moments, which only the optimizer and the checkpoints
 * touch, can live in an instance's memory (residentMoments) and are then updated in place. A shared
 * scratch instance per thread, made on first use; no memory grows after its views are made, so
 * they stay valid.
 */
import { OPTIMIZER_KERNELS_WASM } from './optimizer-kernels.wasm.js';

/** Elements per chunk: four float32 scratch arrays of 2048 (32 KiB) stay in the L1 cache. */
export const CHUNK = 2048;

/** The part of the WebAssembly JS API used here (the project's lib has no DOM types, where it is declared). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: WasmApi };

interface KernelExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  adamw(p: number, g: number, m: number, v: number, n: number, clip: number, coef: number, beta1: number, c1: number, beta2: number, c2: number, bc1: number, bc2: number, lr: number, eps: number, decay: number): void;
  scaleAndSquares(g: number, n: number, tokens: number, ss: number): number;
  addInto(acc: number, x: number, n: number): void;
}

/** An instance of the kernels and the scratch area at the start of its memory. */
interface Kernels {
  k: KernelExports;
  /** Four float32 arrays of CHUNK at byte offsets 0, 4·CHUNK, 8·CHUNK, 12·CHUNK (the module's first 64 KiB page). */
  P: Float32Array;
  G: Float32Array;
  M: Float32Array;
  V: Float32Array;
}

const BYTES = 4 * CHUNK;
const PAGE = 65536;
let compiled: object | undefined;
let scratch: Kernels | undefined;
let unavailable = false;

/**
 * Whether this engine runs the kernels: every Node ≥ 20 does, on a CPU with SSE4.1 (x86-64) or any
 * arm64; V8 refuses SIMD modules elsewhere (e.g. qemu's default x86-64 model), and the caller then
 * runs the reference loops (the same results, slower).
 */
export function wasmKernelsAvailable(): boolean {
  if (scratch) return true;
  if (unavailable) return false;
  try {
    kernels();
    return true;
  } catch {
    unavailable = true;
    return false;
  }
}

/** A new instance whose memory has `extraBytes` (rounded up to pages) after the scratch page. */
function instantiate(extraBytes: number): Kernels {
  compiled ??= new wasm.Module(Buffer.from(OPTIMIZER_KERNELS_WASM, 'base64'));
  const k = new wasm.Instance(compiled, {}).exports as KernelExports;
  if (extraBytes > 0) k.memory.grow(Math.ceil(extraBytes / PAGE)); // before any view: growing detaches the old buffer
  const all = new Float32Array(k.memory.buffer, 0, 4 * CHUNK);
  return { k, P: all.subarray(0, CHUNK), G: all.subarray(CHUNK, 2 * CHUNK), M: all.subarray(2 * CHUNK, 3 * CHUNK), V: all.subarray(3 * CHUNK, 4 * CHUNK) };
}

/** The shared scratch instance, for tensors that live elsewhere. */
function kernels(): Kernels {
  return (scratch ??= instantiate(0));
}

/** Instances whose memory holds AdamW moments (residentMoments), by that memory's buffer. */
const arenas = new WeakMap<ArrayBuffer, Kernels>();

/** Largest memory given to resident moments; above it they are plain arrays (and copied in chunks). */
export const MAX_RESIDENT_BYTES = 2 ** 31;

/**
 * Zeroed AdamW moments for tensors of these sizes, inside one instance's memory, so that the AdamW
 * kernel reads and writes m and v where they are (no copies: half the update's memory traffic),
 * overlapped with its arithmetic. Each array starts 16-byte aligned, padded to a multiple of 4
 * elements (the kernel's odd last lane writes there, never into a neighbour). Undefined where the
 * kernels are unavailable, the moments would take more than MAX_RESIDENT_BYTES or the engine cannot
 * grow a memory that far.
 */
export function residentMoments(sizes: number[]): Array<{ m: Float32Array; v: Float32Array }> | undefined {
  const padded = sizes.map((n) => Math.ceil(n / 4) * 4);
  const bytes = 8 * padded.reduce((a, b) => a + b, 0);
  if (bytes > MAX_RESIDENT_BYTES || !wasmKernelsAvailable()) return undefined;
  let arena: Kernels;
  try {
    arena = instantiate(bytes);
  } catch (err) {
    if (err instanceof RangeError) return undefined; // the engine could not grow the memory this far: plain arrays
    throw err;
  }
  const buffer = arena.k.memory.buffer;
  arenas.set(buffer, arena);
  let offset = PAGE;
  const take = (n: number, room: number): Float32Array => {
    const view = new Float32Array(buffer, offset, n);
    offset += 4 * room;
    return view;
  };
  return sizes.map((n, i) => ({ m: take(n, padded[i]!), v: take(n, padded[i]!) }));
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
  const arena = arenas.get(m.buffer as ArrayBuffer);
  const resident = arena !== undefined && v.buffer === m.buffer;
  const { k, P, G, M, V } = resident ? arena : kernels();
  const clip = c.clip ? 1 : 0;
  for (let off = 0; off < param.length; off += CHUNK) {
    const len = Math.min(CHUNK, param.length - off), end = off + len;
    P.set(param.subarray(off, end));
    G.set(grad.subarray(off, end));
    if (!resident) {
      M.set(m.subarray(off, end));
      V.set(v.subarray(off, end));
    }
    const mAt = resident ? m.byteOffset + 4 * off : 2 * BYTES, vAt = resident ? v.byteOffset + 4 * off : 3 * BYTES;
    // An odd length runs one lane past the data: on stale scratch values never copied back, or on
    // a resident array's padding.
    k.adamw(0, BYTES, mAt, vAt, (len + 1) & ~1, clip, c.coef, c.beta1, c.c1, c.beta2, c.c2, c.bc1, c.bc2, c.lr, c.eps, decay);
    param.set(head(P, len), off);
    if (!resident) {
      m.set(head(M, len), off);
      v.set(head(V, len), off);
    }
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
