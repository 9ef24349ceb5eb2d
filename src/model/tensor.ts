/**
 * Host-side tensors: a dtype, a shape and a typed array, row-major. Shared by safetensors IO,
 * the ONNX graph builder (initializers), reference forwards and training.
 */
import { InternalError } from '../core/errors.js';
export type DType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I8' | 'U8' | 'I32' | 'I64';

export type TensorData = Float32Array | Float64Array | Uint16Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

export interface HostTensor {
  dtype: DType;
  shape: number[];
  /** Row-major values; F16 and BF16 are raw 16-bit patterns in a Uint16Array. */
  data: TensorData;
}

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<DType, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I8: 1, U8: 1, I32: 4, I64: 8 };

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function f32(shape: number[], data?: Float32Array): HostTensor {
  const n = numel(shape);
  if (data && data.length !== n) throw new InternalError(`f32: ${data.length} values for shape [${shape.join(', ')}] (${n})`);
  return { dtype: 'F32', shape, data: data ?? new Float32Array(n) };
}

/** Converts F32/F16/BF16/F64 tensors to a Float32Array (a copy unless already F32). */
export function toFloat32(t: HostTensor): Float32Array {
  switch (t.dtype) {
    case 'F32':
      return t.data as Float32Array;
    case 'F64':
      return Float32Array.from(t.data as Float64Array);
    case 'BF16': {
      const src = t.data as Uint16Array;
      const u32 = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) u32[i] = src[i]! << 16;
      return new Float32Array(u32.buffer);
    }
    case 'F16': {
      const src = t.data as Uint16Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]!);
      return out;
    }
    default:
      throw new InternalError(`toFloat32: ${t.dtype} is not a float dtype`);
  }
}

/** IEEE 754 binary16 bit pattern to number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
