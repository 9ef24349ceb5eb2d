import onnxProto from 'onnx-proto';
import type { HostTensor } from '../tensor.js';
import type { AttrValue, TypedAttr } from './attr.js';
import { ELEM_CODE, ELEM_OF_DTYPE, tensorBytes } from './dtype.js';
import { InternalError } from '../../core/errors.js';

const { onnx } = onnxProto;
const A = onnx.AttributeProto.AttributeType;

export { attr, type AttrValue, type TypedAttr } from './attr.js';

function isTyped(v: AttrValue): v is TypedAttr {
  return typeof v === 'object' && v !== null && 'attrKind' in v;
}

function isHostTensor(v: AttrValue): v is HostTensor {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && 'data' in v;
}

/** An ONNX TensorProto with inline raw data (for attributes such as Constant's `value`). */
export function tensorProto(name: string, t: HostTensor): onnxProto.onnx.ITensorProto {
  return { name, dataType: ELEM_CODE[ELEM_OF_DTYPE[t.dtype]], dims: t.shape, rawData: tensorBytes(t) };
}

export function attributeProto(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const enc = new TextEncoder();
  if (isTyped(value)) {
    switch (value.attrKind) {
      case 'int': return { name, type: A.INT, i: checkInt(name, value.value as number) };
      case 'float': return { name, type: A.FLOAT, f: value.value as number };
      case 'ints': return { name, type: A.INTS, ints: (value.value as number[]).map((v) => checkInt(name, v)) };
      case 'floats': return { name, type: A.FLOATS, floats: value.value as number[] };
      case 'string': return { name, type: A.STRING, s: enc.encode(value.value as string) };
      case 'strings': return { name, type: A.STRINGS, strings: (value.value as string[]).map((s) => enc.encode(s)) };
    }
  }
  if (isHostTensor(value)) return { name, type: A.TENSOR, t: tensorProto(name, value) };
  if (typeof value === 'number') return Number.isInteger(value) ? { name, type: A.INT, i: value } : { name, type: A.FLOAT, f: value };
  if (typeof value === 'string') return { name, type: A.STRING, s: enc.encode(value) };
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return { name, type: A.STRINGS, strings: (value as string[]).map((s) => enc.encode(s)) };
    const nums = value as number[];
    return nums.every((v) => Number.isInteger(v)) ? { name, type: A.INTS, ints: nums } : { name, type: A.FLOATS, floats: nums };
  }
  throw new InternalError(`attribute "${name}": unsupported value ${String(value)}`);
}

function checkInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v)) throw new InternalError(`attribute "${name}": ${v} is not an integer`);
  return v;
}
