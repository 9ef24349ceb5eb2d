import onnxProto from 'onnx-proto';
import type { HostTensor } from '../tensor.js';
import { numel } from '../tensor.js';
import { attributeProto, type AttrValue } from './attributes.js';
import { ELEM_CODE, ELEM_OF_DTYPE, tensorBytes, type ElemType } from './dtype.js';
import { saveModel, toBytes, type InitializerEntry, type SaveOptions, type SavedModel } from './serialize.js';
import { InternalError } from '../../core/errors.js';

const { onnx } = onnxProto;

/** A dimension: a static size or a symbolic name (`batch`, `past_sequence_length`). */
export type Dim = number | string;

/** Opset imports by domain: `''` is ai.onnx. */
export type Opsets = Record<string, number>;

export const DEFAULT_OPSETS: Opsets = { '': 17, 'com.microsoft': 1 };

export interface OpOptions {
  /** Operator domain, e.g. `com.microsoft` for MatMulNBits. Default ai.onnx. */
  domain?: string;
  /** Node name; default `<type>_<n>`. */
  name?: string;
}

export interface MultiOpOptions extends OpOptions {
  /** Output count (names generated) or explicit output names. */
  outputs: number | string[];
}

interface ValueInfo {
  name: string;
  elemType: ElemType;
  dims?: Dim[];
}

/**
 * Builds one ONNX graph: typed inputs and outputs, initializers from host tensors, nodes.
 * Value names are strings; every op returns its output names, so graphs read like code:
 *
 *   const g = new GraphBuilder('mlp');
 *   const x = g.input('x', 'float32', ['batch', 4]);
 *   const w = g.initializer('w', f32([4, 3], ...));
 *   g.output(g.op('Relu', [g.op('MatMul', [x, w])]), 'y', 'float32', ['batch', 3]);
 *   const bytes = g.toBytes();
 *
 * Serialization (inline or with an external data file) lives in serialize.ts.
 */
export class GraphBuilder {
  readonly name: string;
  readonly opsets: Opsets;
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers: InitializerEntry[] = [];
  /** Declared types and shapes of intermediate values (ONNX value_info). */
  readonly valueInfo: ValueInfo[] = [];
  private readonly used = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly scalarCache = new Map<string, string>();

  constructor(name: string, options: { opsets?: Opsets } = {}) {
    this.name = name;
    this.opsets = { ...DEFAULT_OPSETS, ...options.opsets };
  }

  /** A fresh value name starting with `prefix` (`prefix`, `prefix_1`, …). */
  uniqueName(prefix: string): string {
    if (!this.used.has(prefix)) {
      this.used.add(prefix);
      return prefix;
    }
    let n = this.counters.get(prefix) ?? 0;
    let candidate: string;
    do candidate = `${prefix}_${++n}`;
    while (this.used.has(candidate));
    this.counters.set(prefix, n);
    this.used.add(candidate);
    return candidate;
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new InternalError(`GraphBuilder(${this.name}): value name "${name}" is already used`);
    this.used.add(name);
    return name;
  }

  /** Declares a graph input; returns its value name. */
  input(name: string, elemType: ElemType, dims: Dim[]): string {
    this.inputs.push({ name: this.claim(name), elemType, dims });
    return name;
  }

  /**
   * Marks `value` as a graph output named `name` (an Identity node renames it when the names
   * differ). `dims` may be omitted to leave the shape to ONNX Runtime's inference.
   */
  output(value: string, name: string = value, elemType: ElemType = 'float32', dims?: Dim[]): string {
    if (name !== value) {
      this.claim(name);
      this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `output_${name}` });
    }
    this.outputs.push({ name, elemType, dims });
    return name;
  }

  /**
   * Declares an intermediate value's type and shape (ONNX value_info), e.g. a symbolic dimension
   * shape inference cannot name; ONNX Runtime's fusions read these shapes.
   */
  annotate(value: string, elemType: ElemType, dims: Dim[]): string {
    this.valueInfo.push({ name: value, elemType, dims });
    return value;
  }

  /** Adds a weight; the tensor's bytes are referenced, not copied, until serialization. */
  initializer(name: string, tensor: HostTensor): string {
    return this.rawInitializer(name, ELEM_OF_DTYPE[tensor.dtype], tensor.shape, tensorBytes(tensor));
  }

  /** Adds an initializer from raw little-endian bytes (packed 4-bit weights, …). */
  rawInitializer(name: string, elemType: ElemType, dims: number[], bytes: Uint8Array): string {
    this.initializers.push({ name: this.claim(name), elemType, dims: [...dims], bytes });
    return name;
  }

  /** An initializer under a fresh name derived from `prefix`. */
  private constant(prefix: string, tensor: HostTensor): string {
    const name = this.uniqueName(prefix);
    this.initializers.push({ name, elemType: ELEM_OF_DTYPE[tensor.dtype], dims: [...tensor.shape], bytes: tensorBytes(tensor) });
    return name;
  }

  /** A constant int64 tensor (shapes, axes, indices); `dims` default: a 1-D vector. */
  constInt64(values: number[], dims: number[] = [values.length], name?: string): string {
    const key = `i64:${dims.join(',')}:${values.join(',')}`;
    const hit = name === undefined ? this.scalarCache.get(key) : undefined;
    if (hit) return hit;
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const t: HostTensor = { dtype: 'I64', shape: dims, data };
    const out = name === undefined ? this.constant('const_i64', t) : this.initializer(name, t);
    if (name === undefined) this.scalarCache.set(key, out);
    return out;
  }

  /** A constant float32 tensor; `dims` default: a scalar when one value, else a vector. */
  constFloat(values: number[], dims: number[] = values.length === 1 ? [] : [values.length], name?: string): string {
    const key = `f32:${dims.join(',')}:${values.join(',')}`;
    const hit = name === undefined ? this.scalarCache.get(key) : undefined;
    if (hit) return hit;
    if (numel(dims) !== values.length) throw new InternalError(`constFloat: ${values.length} values for dims [${dims.join(', ')}]`);
    const t: HostTensor = { dtype: 'F32', shape: dims, data: Float32Array.from(values) };
    const out = name === undefined ? this.constant('const_f32', t) : this.initializer(name, t);
    if (name === undefined) this.scalarCache.set(key, out);
    return out;
  }

  /**
   * Adds a node with one output and returns the output's value name. Inputs may be `''` for
   * an omitted optional input.
   */
  op(opType: string, inputs: string[], attrs?: Record<string, AttrValue | undefined>, options?: OpOptions): string;
  /** Adds a node with several outputs and returns their value names. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> | undefined, options: MultiOpOptions): string[];
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, options: OpOptions | MultiOpOptions = {}): string | string[] {
    const domain = options.domain ?? '';
    if (!(domain in this.opsets)) throw new InternalError(`GraphBuilder(${this.name}): domain "${domain}" has no opset import`);
    const nodeName = options.name ?? this.uniqueName(opType);
    if (options.name !== undefined) this.used.add(options.name);
    const spec = 'outputs' in options ? options.outputs : 1;
    const outputs = typeof spec === 'number'
      ? Array.from({ length: spec }, (_, i) => this.uniqueName(spec === 1 ? `${nodeName}_out` : `${nodeName}_out${i}`))
      : spec.map((n) => (n === '' ? '' : this.claim(n)));
    const attribute = Object.entries(attrs)
      .filter((e): e is [string, AttrValue] => e[1] !== undefined)
      .map(([k, v]) => attributeProto(k, v));
    this.nodes.push({ opType, domain, name: nodeName, input: inputs, output: outputs, attribute });
    return 'outputs' in options ? outputs : outputs[0]!;
  }

  // Thin helpers for the ops every graph uses (ai.onnx, opset ≥ 13 semantics).
  add(a: string, b: string): string { return this.op('Add', [a, b]); }
  sub(a: string, b: string): string { return this.op('Sub', [a, b]); }
  mul(a: string, b: string): string { return this.op('Mul', [a, b]); }
  div(a: string, b: string): string { return this.op('Div', [a, b]); }
  matMul(a: string, b: string): string { return this.op('MatMul', [a, b]); }
  /** Y = A·Bᵀ (+ C): Gemm with transB, for 2-D A. */
  gemmTransB(a: string, b: string, c?: string): string { return this.op('Gemm', c ? [a, b, c] : [a, b], { transB: 1 }); }
  reshape(x: string, shape: number[]): string { return this.op('Reshape', [x, this.constInt64(shape)]); }
  transpose(x: string, perm: number[]): string { return this.op('Transpose', [x], { perm }); }
  softmax(x: string, axis = -1): string { return this.op('Softmax', [x], { axis }); }
  gather(data: string, indices: string, axis = 0): string { return this.op('Gather', [data, indices], { axis }); }
  concat(values: string[], axis: number): string { return this.op('Concat', values, { axis }); }
  unsqueeze(x: string, axes: number[]): string { return this.op('Unsqueeze', [x, this.constInt64(axes)]); }
  squeeze(x: string, axes: number[]): string { return this.op('Squeeze', [x, this.constInt64(axes)]); }
  cast(x: string, to: ElemType): string { return this.op('Cast', [x], { to: ELEM_CODE[to] }); }
  /** ReduceMean over `axes`: an attribute up to opset 17, an input from opset 18 on. */
  reduceMean(x: string, axes: number[], keepdims = 1): string {
    return this.opsets['']! >= 18 ? this.op('ReduceMean', [x, this.constInt64(axes)], { keepdims }) : this.op('ReduceMean', [x], { axes, keepdims });
  }
  shape(x: string, start?: number, end?: number): string { return this.op('Shape', [x], { start, end }); }
  /** Slice along `axes` with constant starts/ends (use ±2^62 for "to the end"). */
  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    const ins = [x, this.constInt64(starts), this.constInt64(ends), this.constInt64(axes)];
    if (steps) ins.push(this.constInt64(steps));
    return this.op('Slice', ins);
  }

  /**
   * Copies `source`'s nodes and initializers into this graph under names prefixed with `prefix`
   * (one instance of a subgraph: a decoder layer of a whole-model graph). Each source input is
   * bound to a value of this graph by `bind(name)`. Returns the values of the source's outputs by
   * output name. Nodes keep their order, ops, domains and attributes (no subgraph attributes).
   */
  inline(source: GraphBuilder, prefix: string, bind: (input: string) => string): Record<string, string> {
    for (const domain of Object.keys(source.opsets))
      if (!(domain in this.opsets)) throw new InternalError(`GraphBuilder(${this.name}): inlined ${source.name} needs domain "${domain}"`);
    const map = new Map<string, string>([['', '']]);
    for (const input of source.inputs) map.set(input.name, bind(input.name));
    for (const init of source.initializers) {
      const name = this.uniqueName(`${prefix}${init.name}`);
      this.initializers.push({ ...init, name });
      map.set(init.name, name);
    }
    const value = (name: string): string => {
      const v = map.get(name);
      if (v === undefined) throw new InternalError(`GraphBuilder(${this.name}): inlined ${source.name} reads ${name} before it is defined`);
      return v;
    };
    for (const node of source.nodes) {
      if ((node.attribute ?? []).some((a) => a.g || (a.graphs && a.graphs.length > 0))) throw new InternalError(`GraphBuilder(${this.name}): cannot inline ${node.opType} with a subgraph`);
      const input = (node.input ?? []).map(value);
      const output = (node.output ?? []).map((o) => {
        const name = o === '' ? '' : this.uniqueName(`${prefix}${o}`);
        map.set(o, name);
        return name;
      });
      this.nodes.push({ ...node, name: this.uniqueName(`${prefix}${node.name ?? node.opType}`), input, output });
    }
    return Object.fromEntries(source.outputs.map((o) => [o.name, value(o.name)]));
  }

  /** The model as one self-contained protobuf (initializers inline; < 2 GB). */
  toBytes(): Uint8Array { return toBytes(this); }

  /** Writes `<dir>/<fileName>` (+ `<fileName>_data` with external data); see SaveOptions. */
  save(dir: string, fileName: string, options?: SaveOptions): SavedModel { return saveModel(this, dir, fileName, options); }

  /** Graph inputs, outputs, initializers and nodes as an ONNX ModelProto message object. */
  toModelProto(initializers: onnxProto.onnx.ITensorProto[]): onnxProto.onnx.IModelProto {
    const valueInfo = (v: ValueInfo): onnxProto.onnx.IValueInfoProto => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: ELEM_CODE[v.elemType],
          shape: v.dims ? { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined,
        },
      },
    });
    const opsetImport = Object.entries(this.opsets).map(([domain, version]) => ({ domain, version }));
    return {
      irVersion: irVersionFor(this.opsets['']!),
      producerName: 'polypersona',
      producerVersion: '0.1.0',
      opsetImport,
      graph: {
        name: this.name,
        node: this.nodes,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
        valueInfo: this.valueInfo.map(valueInfo),
        initializer: initializers,
      },
    };
  }
}

/** The lowest IR version that allows an ai.onnx opset (onnx/docs/Versioning.md). */
export function irVersionFor(opset: number): number {
  if (opset <= 17) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

export { onnx };
