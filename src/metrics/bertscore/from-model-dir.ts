/**
 * BERTScore from a Hugging Face BERT/RoBERTa model dir (config.json, model.safetensors,
 * tokenizer.json + tokenizer_config.json): loads the weights, builds the encoder graph truncated
 * at `num_layers` (src/metrics/bertscore/encoder.ts), tokenises with the model's tokenizer
 * (special tokens added, truncated to the position table) and returns a BertScoreFn for
 * scorePredictions. Special tokens = the ids the tokenizer adds to an empty text, plus the pad id.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../core/errors.js';
import type { HostTensor } from '../../model/tensor.js';
import type { BertEncoderConfig } from './encoder.js';

export interface BertScoreModelOptions {
  /** Hidden layer whose states are compared (bert-score `num_layers`). */
  numLayers: number;
  idf: boolean;
  baseline?: readonly [number, number, number];
  threads: number;
  batchSize?: number;
}

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
  let c: HfBertConfig;
  try {
    c = JSON.parse(readFileSync(file, 'utf8')) as HfBertConfig;
  } catch (err) {
    throw new DataError('bad-config', `${file}: not valid JSON (${(err as Error).message})`, { cause: err, location: { file } });
  }
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

/** Loads a BERTScore function for a model dir. */
export async function bertScoreFromModelDir(dir: string, options: BertScoreModelOptions): Promise<(predictions: string[], references: string[]) => Promise<Array<{ precision: number; recall: number; f1: number }>>> {
  const { config, padId, maxPositions, prefix, spaceBefore } = encoderConfigFromDir(dir, options.numLayers);
  const weightsFile = join(dir, 'model.safetensors');
  if (!existsSync(weightsFile)) throw new DataError('missing-weights', `${dir}: no model.safetensors`, { location: { file: weightsFile } });
  const { readSafetensors } = await import('../../model/safetensors/read.js');
  const { toFloat32 } = await import('../../model/tensor.js');
  const weights = new Map<string, HostTensor>();
  for (const [name, t] of readSafetensors(weightsFile).tensors) {
    const key = name.startsWith(prefix) ? name.slice(prefix.length) : name;
    weights.set(key, { dtype: 'F32', shape: t.shape, data: toFloat32(t) });
  }
  const { buildBertEncoderGraph, embedSequences } = await import('./encoder.js');
  const { sessionFromGraph } = await import('../../model/onnx/session.js');
  const { loadTokenizer } = await import('../../model/tokenizer/load.js');
  const { bertScore } = await import('./score.js');
  const session = await sessionFromGraph(await buildBertEncoderGraph(config, weights), { threads: options.threads });
  const tokenizer = await loadTokenizer(dir);
  const maxLen = maxPositions - config.positionOffset;
  const encode = (text: string): number[] => {
    // bert-score's sent_encode: strip (Python's whitespace set); an empty text is only the specials.
    const stripped = stripPython(text);
    const ids = tokenizer.encode(stripped !== '' && spaceBefore ? ` ${stripped}` : stripped) as number[];
    // keep the last (special) token when truncating, as bert-score's tokenizer truncation does
    return ids.length <= maxLen ? ids : [...ids.slice(0, maxLen - 1), ids[ids.length - 1]!];
  };
  const specialIds = new Set<number>([...(tokenizer.encode('') as number[]), padId]);
  return async (predictions, references) => {
    const p = await embedSequences(session as never, predictions.map(encode), { padId, batchSize: options.batchSize });
    const r = await embedSequences(session as never, references.map(encode), { padId, batchSize: options.batchSize });
    return bertScore(p, r, { specialIds, idf: options.idf, baseline: options.baseline });
  };
}

/** Python's str.strip(): Unicode whitespace plus the separators \x1c-\x1f that JS's trim() keeps. */
export function stripPython(text: string): string {
  return text.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/gu, '');
}
