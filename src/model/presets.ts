import { UserError } from '../core/errors.js';
import { expectedWeights } from './architectures/index.js';
import type { LlamaConfig } from './config.js';
import { BYTE_LEVEL_SPECIAL_IDS, BYTE_LEVEL_BASE_VOCAB } from './tokenizer/vocab.js';

/**
 * Named model shapes for init-model. `tiny` is for tests and the smoke pipeline (≈ 0.4 M
 * parameters, GQA 4:2, runs in milliseconds on 2 cores); `tinyllama-1.1b` is the exact shape of
 * TinyLlama/TinyLlama-1.1B-Chat-v1.0 (1,100,048,384 parameters) for benchmarks. Token ids follow
 * the project's byte-level tokenizer (specials first), so eos = `<|im_end|>` = 2 in both.
 */
export type PresetName = 'tiny' | 'tinyllama-1.1b';
export const PRESET_NAMES: PresetName[] = ['tiny', 'tinyllama-1.1b'];

const TOKEN_IDS = {
  bosTokenId: BYTE_LEVEL_SPECIAL_IDS['<|endoftext|>'],
  eosTokenId: [BYTE_LEVEL_SPECIAL_IDS['<|im_end|>']],
  padTokenId: BYTE_LEVEL_SPECIAL_IDS['<|endoftext|>'],
};

export function presetConfig(name: PresetName): LlamaConfig {
  switch (name) {
    case 'tiny':
      return {
        architecture: 'llama',
        vocabSize: BYTE_LEVEL_BASE_VOCAB,
        hiddenSize: 128,
        intermediateSize: 352,
        numHiddenLayers: 2,
        numAttentionHeads: 4,
        numKeyValueHeads: 2,
        headDim: 32,
        rmsNormEps: 1e-5,
        ropeTheta: 10000,
        maxPositionEmbeddings: 1024,
        tieWordEmbeddings: false,
        attentionBias: false,
        ...TOKEN_IDS,
        torchDtype: 'float32',
      };
    case 'tinyllama-1.1b':
      return {
        architecture: 'llama',
        vocabSize: 32000,
        hiddenSize: 2048,
        intermediateSize: 5632,
        numHiddenLayers: 22,
        numAttentionHeads: 32,
        numKeyValueHeads: 4,
        headDim: 64,
        rmsNormEps: 1e-5,
        ropeTheta: 10000,
        maxPositionEmbeddings: 2048,
        tieWordEmbeddings: false,
        attentionBias: false,
        ...TOKEN_IDS,
        torchDtype: 'float32',
      };
    default:
      throw new UserError('unknown-preset', `unknown model preset "${String(name)}" (known: ${PRESET_NAMES.join(', ')})`);
  }
}

/** Parameter count of a shape (every tensor of expectedWeights). */
export function parameterCount(cfg: LlamaConfig): number {
  let n = 0;
  for (const shape of expectedWeights(cfg).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}
