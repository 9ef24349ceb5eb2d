import type { DType, HostTensor } from '../tensor.js';

/**
 * Element types of ONNX values, by the names onnxruntime-node uses for its tensors
 * (`float32`, `int64`, …) plus the sub-byte `uint4`/`int4` ONNX knows. `code` is
 * TensorProto.DataType.
 */
export type ElemType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool' | 'int4' | 'uint4';

export const ELEM_CODE: Record<ElemType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
  uint4: 21,
  int4: 22,
};

/** HostTensor dtype → ONNX element type. */
export const ELEM_OF_DTYPE: Record<DType, ElemType> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I8: 'int8',
  U8: 'uint8',
  I32: 'int32',
  I64: 'int64',
};

/** The raw little-endian bytes of a host tensor, as a view (no copy). */
export function tensorBytes(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}
