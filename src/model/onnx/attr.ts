/**
 * Node attribute values as the graph builder takes them, without the protobuf library (which
 * attributes.ts loads to encode them): graph code can import `attr` cheaply.
 */
import type { HostTensor } from '../tensor.js';

/**
 * A node attribute. Plain JS values are typed by their look: an integral number is an INT,
 * any other number a FLOAT, a string a STRING, an array of integral numbers INTS, other
 * number arrays FLOATS, a HostTensor a TENSOR. Where the look misleads (a float attribute
 * whose value is integral, such as Gemm's `alpha: 1`), wrap it: `attr.float(1)`.
 */
export type AttrValue = number | string | number[] | string[] | HostTensor | TypedAttr;

export interface TypedAttr {
  readonly attrKind: 'int' | 'float' | 'ints' | 'floats' | 'string' | 'strings';
  readonly value: number | number[] | string | string[];
}

export const attr = {
  int: (value: number): TypedAttr => ({ attrKind: 'int', value }),
  float: (value: number): TypedAttr => ({ attrKind: 'float', value }),
  ints: (value: number[]): TypedAttr => ({ attrKind: 'ints', value }),
  floats: (value: number[]): TypedAttr => ({ attrKind: 'floats', value }),
  string: (value: string): TypedAttr => ({ attrKind: 'string', value }),
  strings: (value: string[]): TypedAttr => ({ attrKind: 'strings', value }),
};

