/**
 * mistral (`MistralForCausalLM`): llama's layer. Its sliding-window attention is not applied: the
 * window (4,096 tokens) is longer than any sequence this project trains or generates.
 */
import type { DecoderArchitecture } from './architecture.js';
import { llama } from './llama.js';

export const mistral: DecoderArchitecture = { ...llama, modelType: 'mistral' };
