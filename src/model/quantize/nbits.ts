/**
 * Block-wise weight quantization in the layout of onnxruntime's `com.microsoft.MatMulNBits`:
 *
 *   W: [N, K] float (HF linear weight [out, in]); K is split into blocks of `blockSize`
 *   codes  (B):   uint8 [N, nBlocks, blockSize * bits / 8], codes packed low bits first along K
 *   scales:       float32 [N, nBlocks]
 *   zeroPoints:   uint8 [N, ceil(nBlocks * bits / 8)] packed the same way (asymmetric only;
 *                 absent means the midpoint 2^(bits-1))
 *   W[n, k] ≈ (code - zeroPoint) * scale
 *
 * Every element's error is at most scale/2 (rounding to the nearest code; the range is chosen
 * so that no value is clamped by more than half a step). K that is not a multiple of the block
 * size is padded with zero weights in the last block.
 */
import { InternalError } from '../../core/errors.js';
import { dequantize4BitWasm, dequantWasmAvailable } from './dequant-wasm.js';

export type NBits = 4 | 8;

export interface NBitsOptions {
  bits: NBits;
  /** 16, 32, 64, 128 or 256 (a power of two ≥ 16, as MatMulNBits requires). */
  blockSize: number;
  /** true: zero point fixed at 2^(bits-1), no zero_points tensor; false: per-block zero points. */
  symmetric: boolean;
}

export interface NBitsWeight extends NBitsOptions {
  N: number;
  K: number;
  nBlocks: number;
  codes: Uint8Array;
  scales: Float32Array;
  zeroPoints?: Uint8Array;
}

export function checkNBitsOptions(o: NBitsOptions): void {
  if (o.bits !== 4 && o.bits !== 8) throw new InternalError(`quantization bits must be 4 or 8, got ${o.bits}`);
  if (!Number.isInteger(o.blockSize) || o.blockSize < 16 || (o.blockSize & (o.blockSize - 1)) !== 0) {
    throw new InternalError(`quantization block size must be a power of two ≥ 16, got ${o.blockSize}`);
  }
}

/** Quantizes W [N, K] (row-major). */
export function quantizeNBits(w: Float32Array, N: number, K: number, options: NBitsOptions): NBitsWeight {
  checkNBitsOptions(options);
  const { bits, blockSize, symmetric } = options;
  if (w.length !== N * K) throw new InternalError(`quantizeNBits: ${w.length} values for [${N}, ${K}]`);
  const nBlocks = Math.ceil(K / blockSize);
  const blob = (blockSize * bits) / 8;
  const maxCode = (1 << bits) - 1;
  const mid = 1 << (bits - 1);
  const codes = new Uint8Array(N * nBlocks * blob);
  const scales = new Float32Array(N * nBlocks);
  const zpRow = Math.ceil((nBlocks * bits) / 8);
  const zeroPoints = symmetric ? undefined : new Uint8Array(N * zpRow);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nBlocks; b++) {
      const k0 = b * blockSize, k1 = Math.min(K, k0 + blockSize);
      let lo = 0, hi = 0; // the range always holds 0 so that padding and zero weights are exact
      for (let k = k0; k < k1; k++) {
        const x = w[n * K + k]!;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      let scale: number, zp: number;
      if (symmetric) {
        // codes mid-(mid-1) .. mid+(mid-1): symmetric around the fixed zero point
        scale = Math.max(-lo, hi) / (mid - 1);
        zp = mid;
      } else {
        scale = (hi - lo) / maxCode;
        zp = scale > 0 ? Math.min(maxCode, Math.max(0, Math.round(-lo / scale))) : mid;
      }
      // Store the float32 scale and quantize against it, so dequantization sees the same step.
      const s32 = Math.fround(scale);
      scales[n * nBlocks + b] = s32;
      const base = (n * nBlocks + b) * blob;
      for (let i = 0; i < blockSize; i++) {
        const k = k0 + i;
        const x = k < k1 ? w[n * K + k]! : 0;
        const code = s32 > 0 ? Math.min(maxCode, Math.max(0, Math.round(x / s32 + zp))) : zp;
        if (bits === 8) codes[base + i] = code;
        else codes[base + (i >> 1)] |= (i & 1) === 0 ? code : code << 4;
      }
      if (zeroPoints) {
        if (bits === 8) zeroPoints[n * zpRow + b] = zp;
        else zeroPoints[n * zpRow + (b >> 1)] |= (b & 1) === 0 ? zp : zp << 4;
      }
    }
  }
  return { bits, blockSize, symmetric, N, K, nBlocks, codes, scales, zeroPoints };
}

/** The block's code and zero point for W[n, k]. */
function codeAt(q: NBitsWeight, n: number, k: number): { code: number; zp: number; scale: number } {
  const b = Math.floor(k / q.blockSize), i = k % q.blockSize;
  const blob = (q.blockSize * q.bits) / 8;
  const byte = q.codes[(n * q.nBlocks + b) * blob + (q.bits === 8 ? i : i >> 1)]!;
  const code = q.bits === 8 ? byte : (i & 1) === 0 ? byte & 15 : byte >> 4;
  let zp = 1 << (q.bits - 1);
  if (q.zeroPoints) {
    const zpRow = Math.ceil((q.nBlocks * q.bits) / 8);
    const zb = q.zeroPoints[n * zpRow + (q.bits === 8 ? b : b >> 1)]!;
    zp = q.bits === 8 ? zb : (b & 1) === 0 ? zb & 15 : zb >> 4;
  }
  return { code, zp, scale: q.scales[n * q.nBlocks + b]! };
}

/** W [N, K] as the quantized graph sees it: (code - zp) * scale in float32. */
export function dequantizeNBits(q: NBitsWeight): Float32Array {
  const out = new Float32Array(q.N * q.K);
  for (let n = 0; n < q.N; n++)
    for (let k = 0; k < q.K; k++) {
      const { code, zp, scale } = codeAt(q, n, k);
      out[n * q.K + k] = (code - zp) * scale;
    }
  return out;
}

/**
 * Fast 4-bit dequantization into `out` [N, K] (K a multiple of the block size): the same
 * (code − zp) · scale in float32 as dequantizeNBits, bit for bit. Runs the WebAssembly SIMD kernel
 * (dequant-wasm.ts; several times faster than the JavaScript loop, `npm run bench -- dequant`)
 * where the engine has it, else the JavaScript loop. The training engine runs it once per layer
 * per backward.
 */
export function dequantize4BitInto(q: NBitsWeight, out: Float32Array): Float32Array {
  checkDequantize4Bit(q, out);
  return dequantWasmAvailable() ? dequantize4BitWasm(q, out) : dequantize4BitReference(q, out);
}

function checkDequantize4Bit(q: NBitsWeight, out: Float32Array): void {
  if (q.bits !== 4 || q.K % q.blockSize !== 0) throw new InternalError(`dequantize4BitInto: needs 4-bit codes with K (${q.K}) a multiple of the block size (${q.blockSize})`);
  if (out.length !== q.N * q.K) throw new InternalError(`dequantize4BitInto: output holds ${out.length} values, [${q.N}, ${q.K}] needs ${q.N * q.K}`);
}

/**
 * The JavaScript loop dequantize4BitInto runs where WebAssembly SIMD is missing, and the reference
 * its kernel is tested and benchmarked against (about 2.5× faster than ORT's GatherBlockQuantized /
 * DequantizeLinear on this machine).
 */
export function dequantize4BitReference(q: NBitsWeight, out: Float32Array): Float32Array {
  checkDequantize4Bit(q, out);
  const { codes, scales, zeroPoints, nBlocks } = q;
  const half = q.blockSize >> 1, zpRow = (nBlocks + 1) >> 1;
  let o = 0, c = 0;
  for (let n = 0; n < q.N; n++) {
    for (let b = 0; b < nBlocks; b++) {
      const s = scales[n * nBlocks + b]!;
      let z = 8;
      if (zeroPoints) {
        const byte = zeroPoints[n * zpRow + (b >> 1)]!;
        z = (b & 1) === 0 ? byte & 15 : byte >> 4;
      }
      for (let j = 0; j < half; j++) {
        const byte = codes[c++]!;
        out[o++] = ((byte & 15) - z) * s;
        out[o++] = ((byte >> 4) - z) * s;
      }
    }
  }
  return out;
}

/** The scale of the block holding W[n, k] (for error bounds). */
export function blockScale(q: NBitsWeight, n: number, k: number): number {
  return q.scales[n * q.nBlocks + Math.floor(k / q.blockSize)]!;
}

/** Bytes of the quantized representation (codes + scales + zero points). */
export function nbitsBytes(q: NBitsWeight): number {
  return q.codes.byteLength + q.scales.byteLength + (q.zeroPoints?.byteLength ?? 0);
}
