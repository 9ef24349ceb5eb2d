/**
 * 4-bit dequantization on WebAssembly 128-bit SIMD (dequant-kernels.wat): the same float32
 * (code − z) · scale as the JavaScript loop (dequantize4BitReference in nbits.ts), bit for bit (the
 * argument is in the .wat), several times faster (`npm run bench -- dequant`, docs/training.md).
 *
 * The weight stays where it is: a chunk of rows (about 64 KiB of output floats, so it stays in
 * the L2 cache) has its codes, scales and zero points copied into the module's memory,
 * dequantized there and copied out to `out`. One instance per thread, made on first use; its
 * memory grows only for rows longer than the chunk (views are made per call, after any growth).
 */
import { WasmKernels } from '../../core/wasm.js';
import { DEQUANT_KERNELS_WASM } from './dequant-kernels.wasm.js';

/** Output floats a chunk aims at (64 KiB): at least one row. */
export const CHUNK_FLOATS = 16384;

interface KernelExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  dequant4(codes: number, scales: number, zps: number, hasZp: number, out: number, rows: number, nBlocks: number, half: number): void;
}

/** The parts of a 4-bit NBitsWeight (nbits.ts) the kernel reads; declared here so nbits.ts alone imports the other. */
export interface FourBitWeight {
  N: number;
  K: number;
  nBlocks: number;
  blockSize: number;
  codes: Uint8Array;
  scales: Float32Array;
  zeroPoints?: Uint8Array;
}

const kernel = new WasmKernels<KernelExports>(DEQUANT_KERNELS_WASM);

/** Whether this engine runs the kernel (core/wasm.ts); elsewhere dequantize4BitInto runs the JavaScript loop. */
export function dequantWasmAvailable(): boolean {
  return kernel.available();
}

const align16 = (x: number): number => (x + 15) & ~15;

/**
 * out [N, K] ← the 4-bit weight dequantized. The caller (dequantize4BitInto) has checked the
 * shapes: 4-bit codes, K a multiple of blockSize (a power of two ≥ 16), out.length = N·K.
 */
export function dequantize4BitWasm(q: FourBitWeight, out: Float32Array): Float32Array {
  const k = kernel.get();
  const { N, K, nBlocks, codes, scales, zeroPoints } = q;
  const half = q.blockSize >> 1, zpRow = (nBlocks + 1) >> 1, codeRow = nBlocks * half;
  const rows = Math.max(1, Math.min(N, Math.floor(CHUNK_FLOATS / K)));
  // Layout: out floats, codes, scales, zero points, each 16-byte aligned.
  const outAt = 0, codesAt = align16(rows * K * 4), scalesAt = codesAt + align16(rows * codeRow);
  const zpsAt = scalesAt + align16(rows * nBlocks * 4), end = zpsAt + align16(zeroPoints ? rows * zpRow : 0);
  if (end > k.memory.buffer.byteLength) k.memory.grow(Math.ceil((end - k.memory.buffer.byteLength) / 65536));
  const buf = k.memory.buffer;
  const OUT = new Float32Array(buf, outAt, rows * K);
  const CODES = new Uint8Array(buf, codesAt, rows * codeRow);
  const SCALES = new Float32Array(buf, scalesAt, rows * nBlocks);
  const ZPS = new Uint8Array(buf, zpsAt, zeroPoints ? rows * zpRow : 0);
  for (let n0 = 0; n0 < N; n0 += rows) {
    const r = Math.min(rows, N - n0);
    CODES.set(codes.subarray(n0 * codeRow, (n0 + r) * codeRow));
    SCALES.set(scales.subarray(n0 * nBlocks, (n0 + r) * nBlocks));
    if (zeroPoints) ZPS.set(zeroPoints.subarray(n0 * zpRow, (n0 + r) * zpRow));
    k.dequant4(codesAt, scalesAt, zpsAt, zeroPoints ? 1 : 0, outAt, r, nBlocks, half);
    out.set(r === rows ? OUT : OUT.subarray(0, r * K), n0 * K);
  }
  return out;
}
