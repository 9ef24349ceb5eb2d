/** Byte-level BPE tokenizers in the Hugging Face format, and loading any HF tokenizer offline. */
export { trainByteLevelBpe, GPT2_SPLIT, type BpeTrainOptions } from './bpe-train.js';
export { buildTokenizerConfig, buildTokenizerJson, byteLevelTokenizerFiles, byteLevelVocabSize, CHATML_TEMPLATE, readTokenizerFiles, writeTokenizerFiles, type ByteLevelTokenizerSpec } from './files.js';
export { loadTokenizer, type Tokenizer } from './load.js';
export { BYTE_LEVEL_BASE_VOCAB, BYTE_LEVEL_SPECIAL_IDS, BYTE_TO_CHAR, BYTE_TOKEN_OFFSET, SPECIAL_TOKENS, toByteLevel, type SpecialToken } from './vocab.js';
