/**
 * A Hugging Face BERT/RoBERTa model dir (config.json, model.safetensors) as the encoder graph
 * wants it: the encoder config truncated at `numLayers`, the pad id, the position table's size,
 * and the weights with the `bert.` / `roberta.` prefix stripped, as float32.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../core/errors.js';
import { readJsonFile } from '../../core/files.js';
import type { HostTensor } from '../tensor.js';
import type { BertEncoderConfig } from './encoder.js';

interface HfBertConfig {
  model_type?: string;
  hidden_size?: number;
  num_attention_heads?: number;
  intermediate_size?: number;
  num_hidden_layers?: number;
  layer_norm_eps?: number;
  pad_token_id?: number;
  max_position_embeddings?: number;
  hidden_act?: string;
}

/**
 * `spaceBefore`: bert-score encodes RoBERTa (and GPT-2) texts with `add_prefix_space=True` on the
 * slow tokenizer, i.e. as " " + text, so the first word gets its leading-space token like every
 * other; XLM-RoBERTa's SentencePiece tokenizer is not a RobertaTokenizer and gets no space.
 */
const FAMILIES: Record<string, { prefix: string; positionOffset: (pad: number) => number; spaceBefore: boolean }> = {
  bert: { prefix: 'bert.', positionOffset: () => 0, spaceBefore: false },
  roberta: { prefix: 'roberta.', positionOffset: (pad) => pad + 1, spaceBefore: true },
  'xlm-roberta': { prefix: 'roberta.', positionOffset: (pad) => pad + 1, spaceBefore: false },
};

/** Reads config.json into an encoder config; throws DataError naming the file and field. */
export function encoderConfigFromDir(dir: string, numLayers: number): { config: BertEncoderConfig; padId: number; maxPositions: number; prefix: string; spaceBefore: boolean } {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) throw new DataError('missing-config', `${dir}: no config.json (BERTScore needs a BERT/RoBERTa model dir)`, { location: { file } });
  const c = readJsonFile(file, 'the encoder config') as HfBertConfig;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new DataError('bad-config', `${file}: must be a JSON object`, { location: { file } });
  const family = FAMILIES[c.model_type ?? ''];
  if (!family) throw new DataError('unsupported-encoder', `${file}: model_type "${c.model_type}" is not a BERT/RoBERTa encoder (bert, roberta, xlm-roberta)`, { location: { file } });
  for (const key of ['hidden_size', 'num_attention_heads', 'intermediate_size', 'num_hidden_layers', 'max_position_embeddings'] as const) {
    if (typeof c[key] !== 'number') throw new DataError('bad-config', `${file}: "${key}" must be a number`, { location: { file } });
  }
  if ((c.hidden_act ?? 'gelu') !== 'gelu') throw new DataError('bad-config', `${file}: hidden_act "${c.hidden_act}" is not supported (only "gelu")`, { location: { file } });
  if (numLayers < 0 || numLayers > c.num_hidden_layers!) throw new DataError('bad-layer', `num_layers ${numLayers} is outside 0..${c.num_hidden_layers} for ${file}`, { location: { file } });
  const padId = c.pad_token_id ?? (c.model_type === 'bert' ? 0 : 1);
  return {
    config: { hiddenSize: c.hidden_size!, numHeads: c.num_attention_heads!, intermediateSize: c.intermediate_size!, layers: numLayers, layerNormEps: c.layer_norm_eps ?? 1e-12, positionOffset: family.positionOffset(padId) },
    padId,
    maxPositions: c.max_position_embeddings!,
    prefix: family.prefix,
    spaceBefore: family.spaceBefore,
  };
}

/** The encoder weights of a model dir (HF names without the family prefix), float32. */
export async function loadBertWeights(dir: string, prefix: string): Promise<Map<string, HostTensor>> {
  const weightsFile = join(dir, 'model.safetensors');
  if (!existsSync(weightsFile)) throw new DataError('missing-weights', `${dir}: no model.safetensors`, { location: { file: weightsFile } });
  const { readSafetensors } = await import('../safetensors/read.js');
  const { toFloat32 } = await import('../tensor.js');
  const weights = new Map<string, HostTensor>();
  for (const [name, t] of readSafetensors(weightsFile).tensors) {
    const key = name.startsWith(prefix) ? name.slice(prefix.length) : name;
    weights.set(key, { dtype: 'F32', shape: t.shape, data: toFloat32(t) });
  }
  return weights;
}
