import { UserError } from '../core/errors.js';
import { expectedWeights } from './architectures/index.js';
import type { Architecture, LlamaConfig } from './config.js';
import { BYTE_LEVEL_SPECIAL_IDS, BYTE_LEVEL_BASE_VOCAB } from './tokenizer/vocab.js';

/**
 * Named model shapes for init-model. `tiny` is for tests and the smoke pipeline (≈ 0.4 M
 * parameters, GQA 4:2, runs in milliseconds on 2 cores), in any architecture (tinyOf);
 * `small-25m` is a from-scratch model of the size the offline pipelines pretrain (23.9 M parameters
 * with the byte-level vocabulary: hidden 512, 8 layers, GQA 8:4), the benchmarks' middle shape;
 * `tinyllama-1.1b`, `phi-2` and `qwen1.5-moe-a2.7b` are the exact shapes of
 * TinyLlama/TinyLlama-1.1B-Chat-v1.0 (1,100,048,384 parameters), microsoft/phi-2 (2,779,683,840)
 * and Qwen/Qwen1.5-MoE-A2.7B (14,315,784,192) for benchmarks and memory estimates. Token ids follow
 * the project's byte-level tokenizer (specials first), so eos = `<|im_end|>` = 2 in all.
 */
export type PresetName = 'tiny' | 'small-25m' | 'tinyllama-1.1b' | 'phi-2' | 'qwen1.5-moe-a2.7b';
export const PRESET_NAMES: PresetName[] = ['tiny', 'small-25m', 'tinyllama-1.1b', 'phi-2', 'qwen1.5-moe-a2.7b'];

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
    case 'small-25m':
      return {
        architecture: 'llama',
        vocabSize: BYTE_LEVEL_BASE_VOCAB,
        hiddenSize: 512,
        intermediateSize: 1408,
        numHiddenLayers: 8,
        numAttentionHeads: 8,
        numKeyValueHeads: 4,
        headDim: 64,
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
    case 'phi-2':
      return {
        architecture: 'phi',
        vocabSize: 51200,
        hiddenSize: 2560,
        intermediateSize: 10240,
        numHiddenLayers: 32,
        numAttentionHeads: 32,
        numKeyValueHeads: 32,
        headDim: 80,
        rmsNormEps: 1e-6,
        ropeTheta: 10000,
        maxPositionEmbeddings: 2048,
        tieWordEmbeddings: false,
        attentionBias: true,
        ...TOKEN_IDS,
        torchDtype: 'float32',
        phi: { layerNormEps: 1e-5, partialRotaryFactor: 0.4 },
      };
    case 'qwen1.5-moe-a2.7b':
      return {
        architecture: 'qwen2_moe',
        vocabSize: 151936,
        hiddenSize: 2048,
        intermediateSize: 5632,
        numHiddenLayers: 24,
        numAttentionHeads: 16,
        numKeyValueHeads: 16,
        headDim: 128,
        rmsNormEps: 1e-6,
        ropeTheta: 1000000,
        maxPositionEmbeddings: 8192,
        tieWordEmbeddings: false,
        attentionBias: true,
        ...TOKEN_IDS,
        torchDtype: 'float32',
        moe: { numExperts: 60, numExpertsPerTok: 4, moeIntermediateSize: 1408, sharedExpertIntermediateSize: 5632, normTopkProb: false, routerAuxLossCoef: 0.001, outputRouterLogits: false },
      };
    default:
      throw new UserError('unknown-preset', `unknown model preset "${String(name)}" (known: ${PRESET_NAMES.join(', ')})`);
  }
}

/**
 * The tiny preset in another architecture, each with what distinguishes it: phi with its partial
 * rotary (Phi-2's 0.4), LayerNorm, biases and no GQA; qwen2_moe with 4 experts, top-2, a shared
 * expert twice an expert's width (Qwen1.5-MoE's proportions: 4 experts of 1408 = the shared 5632).
 */
export function tinyOf(architecture: Architecture): LlamaConfig {
  const tiny = presetConfig('tiny');
  switch (architecture) {
    case 'llama':
    case 'mistral':
      return { ...tiny, architecture };
    case 'qwen2':
      return { ...tiny, architecture, attentionBias: true };
    case 'phi':
      return { ...tiny, architecture, numKeyValueHeads: tiny.numAttentionHeads, attentionBias: true, phi: { layerNormEps: 1e-5, partialRotaryFactor: 0.4 } };
    case 'qwen2_moe':
      return {
        ...tiny, architecture, attentionBias: true,
        moe: { numExperts: 4, numExpertsPerTok: 2, moeIntermediateSize: 64, sharedExpertIntermediateSize: 128, normTopkProb: false, routerAuxLossCoef: 0.001, outputRouterLogits: false },
      };
  }
}

/** Parameter count of a shape (every tensor of expectedWeights). */
export function parameterCount(cfg: LlamaConfig): number {
  let n = 0;
  for (const shape of expectedWeights(cfg).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}
