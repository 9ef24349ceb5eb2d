/**
 * BERTScore from a Hugging Face BERT/RoBERTa model dir (config.json, model.safetensors,
 * tokenizer.json + tokenizer_config.json): loads the encoder (src/model/bert) truncated at
 * `num_layers`, tokenises with the model's tokenizer as bert-score does (text stripped, a space
 * before RoBERTa texts, special tokens added, truncated to the position table) and returns a
 * BertScoreFn for scorePredictions. Special tokens = the ids the tokenizer adds to an empty text,
 * plus the pad id.
 */
export interface BertScoreModelOptions {
  /** Hidden layer whose states are compared (bert-score `num_layers`). */
  numLayers: number;
  idf: boolean;
  baseline?: readonly [number, number, number];
  threads: number;
  batchSize?: number;
}

/** Loads a BERTScore function for a model dir. */
export async function bertScoreFromModelDir(dir: string, options: BertScoreModelOptions): Promise<(predictions: string[], references: string[]) => Promise<Array<{ precision: number; recall: number; f1: number }>>> {
  const { encoderConfigFromDir, loadBertWeights } = await import('../../model/bert/model-dir.js');
  const { config, padId, maxPositions, prefix, spaceBefore } = encoderConfigFromDir(dir, options.numLayers);
  const weights = await loadBertWeights(dir, prefix);
  const { buildBertEncoderGraph, embedSequences } = await import('../../model/bert/encoder.js');
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
