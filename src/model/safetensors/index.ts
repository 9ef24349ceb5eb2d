/** Safetensors IO: single files, sharded checkpoint directories, header-only listing. */
export { MAX_HEADER_BYTES, type SafetensorsHeader, type TensorEntry } from './header.js';
export { openSafetensors, parseSafetensorsBuffer, readSafetensors, readSafetensorsHeader, SafetensorsFile, typedView, WHOLE_FILE_LIMIT, type SafetensorsContents } from './read.js';
export { isLazyTensor, safetensorsFileSize, tensorBytes, writeSafetensors, type LazyTensor, type TensorSource } from './write.js';
export { checkpointBytes, DEFAULT_MAX_SHARD_BYTES, INDEX_FILE, locateSafetensors, readIndex, readSafetensorsDir, SINGLE_FILE, writeSafetensorsDir, type LocatedTensor } from './sharded.js';
