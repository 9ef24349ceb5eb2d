import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { writeChunksAtomic } from '../../core/atomic.js';
import { ELEM_CODE, type ElemType } from './dtype.js';
import { InternalError } from '../../core/errors.js';

const { onnx } = onnxProto;

/** protobuf messages are limited to 2 GiB; stay clear of it. */
const INLINE_LIMIT = 1_900_000_000;

/** Alignment of each tensor inside an external data file (lets ORT mmap big tensors). */
const EXTERNAL_ALIGN = 4096;

/**
 * An initializer as the builder stores it: raw little-endian bytes of an `elemType` tensor of
 * shape `dims`, a view of the caller's bytes (no copy).
 */
export interface InitializerEntry {
  name: string;
  elemType: ElemType;
  dims: number[];
  bytes: Uint8Array;
}

/**
 * What serialization needs of a graph (GraphBuilder is one): its name, its initializers and the
 * ModelProto around a given list of initializer protos. Declared here, not imported from
 * builder.ts, so the builder → serialize arrow stays one-way.
 */
export interface SerializableGraph {
  readonly name: string;
  readonly initializers: readonly InitializerEntry[];
  toModelProto(initializers: onnxProto.onnx.ITensorProto[]): onnxProto.onnx.IModelProto;
}

export interface SaveOptions {
  /**
   * Put initializers in an external data file `<fileName>_data` (the name transformers.js looks
   * for): `true`, `false`, or `'auto'` (default: only when the inline model would pass ~1.9 GB).
   */
  externalData?: boolean | 'auto';
  /** Initializers smaller than this stay inline even with external data. Default 1024 bytes. */
  externalThreshold?: number;
}

export interface SavedModel {
  modelPath: string;
  dataPath?: string;
  /** Total bytes written (model + data). */
  bytes: number;
}

/** The model as one self-contained protobuf (all initializers inline). Throws over ~1.9 GB. */
export function toBytes(graph: SerializableGraph): Uint8Array {
  const total = graph.initializers.reduce((s, t) => s + t.bytes.byteLength, 0);
  if (total > INLINE_LIMIT) {
    throw new InternalError(`ONNX graph "${graph.name}": ${total} bytes of weights exceed the 2 GB protobuf limit; save() it with external data`);
  }
  const inits = graph.initializers.map(inlineTensor);
  return onnx.ModelProto.encode(onnx.ModelProto.create(graph.toModelProto(inits))).finish();
}

/**
 * Writes `<dir>/<fileName>` (and `<dir>/<fileName>_data` with external data), each through a
 * temp file + fsync + rename so that a reader never sees half a model.
 */
export function saveModel(graph: SerializableGraph, dir: string, fileName: string, options: SaveOptions = {}): SavedModel {
  mkdirSync(dir, { recursive: true });
  const total = graph.initializers.reduce((s, t) => s + t.bytes.byteLength, 0);
  const mode = options.externalData ?? 'auto';
  const external = mode === true || (mode === 'auto' && total > INLINE_LIMIT);
  const modelPath = join(dir, fileName);
  if (!external) {
    const bytes = toBytes(graph);
    writeChunksAtomic(modelPath, [bytes]);
    return { modelPath, bytes: bytes.byteLength };
  }
  const threshold = options.externalThreshold ?? 1024;
  const dataName = `${fileName}_data`;
  const dataPath = join(dir, dataName);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const inits = graph.initializers.map((t) => {
    if (t.bytes.byteLength < threshold) return inlineTensor(t);
    const pad = (EXTERNAL_ALIGN - (offset % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
    if (pad > 0) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(t.bytes);
    const proto: onnxProto.onnx.ITensorProto = {
      name: t.name,
      dataType: ELEM_CODE[t.elemType],
      dims: t.dims,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: dataName },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(t.bytes.byteLength) },
      ],
    };
    offset += t.bytes.byteLength;
    return proto;
  });
  writeChunksAtomic(dataPath, chunks);
  const modelBytes = onnx.ModelProto.encode(onnx.ModelProto.create(graph.toModelProto(inits))).finish();
  writeChunksAtomic(modelPath, [modelBytes]);
  return { modelPath, dataPath, bytes: modelBytes.byteLength + offset };
}

function inlineTensor(t: InitializerEntry): onnxProto.onnx.ITensorProto {
  return { name: t.name, dataType: ELEM_CODE[t.elemType], dims: t.dims, rawData: t.bytes };
}

