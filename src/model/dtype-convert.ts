import type { DType, HostTensor, TensorData } from './tensor.js';

/**
 * float32 → 16-bit float conversions (the inverse of tensor.ts's toFloat32), round to nearest
 * even, as torch and numpy do. F16 and BF16 values are raw bit patterns in a Uint16Array.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bfloat16 bits of a number: the top 16 bits of its float32, rounded to nearest even; NaN kept quiet. */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) return ((bits >>> 16) | 0x0040) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** IEEE binary16 bits of a number, round to nearest even, overflow to ±Infinity, subnormals kept. */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let out = mant >>> shift;
    if (rest > half || (rest === half && (out & 1))) out++;
    return sign | out;
  }
  let out = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (out & 1))) out++; // may carry into the exponent: correct
  return sign | out;
}

/** float32 values as a tensor of the given float dtype (F32 returns `values` itself). */
export function fromFloat32(values: Float32Array, shape: number[], dtype: 'F32' | 'F16' | 'BF16'): HostTensor {
  if (dtype === 'F32') return { dtype, shape, data: values };
  const out = new Uint16Array(values.length);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < out.length; i++) {
      const b = bits[i]!;
      out[i] = (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0 ? ((b >>> 16) | 0x40) & 0xffff : ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
    }
  } else {
    for (let i = 0; i < out.length; i++) out[i] = floatToHalf(values[i]!);
  }
  return { dtype, shape, data: out };
}

/** The float dtype named by a HF `torch_dtype`. */
export function dtypeOfTorch(torchDtype: string): 'F32' | 'F16' | 'BF16' | undefined {
  return ({ float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as Record<string, 'F32' | 'F16' | 'BF16'>)[torchDtype];
}

export function torchOfDtype(dtype: DType): string {
  return ({ F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as Record<string, string>)[dtype] ?? dtype.toLowerCase();
}

export type { TensorData };
