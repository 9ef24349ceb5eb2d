/** The ONNX graph builder: a typed DSL over onnx-proto (no onnxruntime import here). */
export { GraphBuilder, DEFAULT_OPSETS, irVersionFor, type Dim, type Opsets, type OpOptions, type MultiOpOptions } from './builder.js';
export { attr, type AttrValue, type TypedAttr } from './attributes.js';
export { ELEM_CODE, ELEM_OF_DTYPE, tensorBytes, type ElemType } from './dtype.js';
export { toBytes, saveModel, type InitializerEntry, type SaveOptions, type SavedModel, type SerializableGraph } from './serialize.js';
