/**
 * qwen2 (`Qwen2ForCausalLM`): llama's layer with biases on q/k/v (config.ts sets attentionBias
 * for every qwen2 config, so llama's linearBias gives them).
 */
import type { DecoderArchitecture } from './architecture.js';
import { llama } from './llama.js';

export const qwen2: DecoderArchitecture = { ...llama, modelType: 'qwen2' };
