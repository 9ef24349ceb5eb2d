/**
 * Training examples from a chatml split (read with src/formats/chatml.ts readChatmlSplit; each
 * record's last message must be the assistant's answer). Each record becomes token ids and
 * shifted labels: labels[t] = ids[t + 1], −100 where no loss is taken — the prompt (system + user turns and the
 * assistant header) under `loss_on: assistant`, only the first token under `loss_on: all` — and
 * on padding. Batches are right-padded to their longest example.
 */
import { DataError, InternalError, UserError } from '../core/errors.js';
import type { ChatMessage, ChatmlRecord } from '../formats/chatml.js';
import type { TokenBatch } from './step/index.js';

export type LossOn = 'assistant' | 'all';

/** A training record: a ChatML record (src/formats/chatml.ts) with its line when read from a file. */
export type ChatRecord = Pick<ChatmlRecord, 'id' | 'messages'> & { line?: number };

export interface Example {
  id: string;
  ids: number[];
  /** Shifted targets, same length as ids; −100 = ignored. */
  labels: number[];
  /** Labelled positions. */
  tokens: number;
}

/** The subset of a transformers.js tokenizer this module uses. */
export interface ChatTokenizer {
  apply_chat_template(messages: ChatMessage[], options: { tokenize: true; add_generation_prompt?: boolean; return_tensor: false }): unknown;
}

function tokenIds(out: unknown): number[] {
  const ids = (out as { input_ids?: unknown }).input_ids ?? out;
  if (!Array.isArray(ids)) throw new InternalError('tokenizer: apply_chat_template returned no token ids');
  return (ids as Array<number | bigint>).map(Number);
}

export interface EncodeResult {
  examples: Example[];
  /** Records left out because nothing of the answer fits in max_seq_length. */
  skipped: string[];
  /** Records cut at max_seq_length. */
  truncated: string[];
}

/**
 * Tokenizes records with the model's chat template; `file` (the split they came from) names errors.
 * A record whose last message is not the assistant's answer is an error (nothing to learn).
 */
export function encodeRecords(tokenizer: ChatTokenizer, records: ChatRecord[], lossOn: LossOn, maxSeqLength: number, file?: string): EncodeResult {
  const result: EncodeResult = { examples: [], skipped: [], truncated: [] };
  for (const rec of records) {
    const where = file === undefined ? '' : `${file}${rec.line === undefined ? '' : `:${rec.line}`}: `;
    const location = file === undefined ? undefined : { location: { file, line: rec.line } };
    if (rec.messages.at(-1)?.role !== 'assistant') {
      throw new DataError('bad-record', `${where}record "${rec.id}": the last message must be the assistant's answer (role "assistant")`, location);
    }
    let ids = tokenIds(tokenizer.apply_chat_template(rec.messages, { tokenize: true, return_tensor: false }));
    let promptLen = 1;
    if (lossOn === 'assistant') {
      const prompt = tokenIds(tokenizer.apply_chat_template(rec.messages.slice(0, -1), { tokenize: true, add_generation_prompt: true, return_tensor: false }));
      if (prompt.some((t, i) => ids[i] !== t)) {
        throw new DataError('bad-record', `${where}record "${rec.id}": the tokenized prompt is not a prefix of the tokenized conversation; the chat template cannot separate the answer (use loss_on: all)`, location);
      }
      promptLen = prompt.length;
    }
    if (ids.length > maxSeqLength) {
      ids = ids.slice(0, maxSeqLength);
      result.truncated.push(rec.id);
    }
    const labels = ids.map((_, t) => (t + 1 < ids.length && t + 1 >= promptLen ? ids[t + 1]! : -100));
    const tokens = labels.filter((l) => l !== -100).length;
    if (tokens === 0) {
      result.skipped.push(rec.id);
      continue;
    }
    result.examples.push({ id: rec.id, ids, labels, tokens });
  }
  return result;
}

/** Right-pads examples to the longest one. */
export function makeBatch(examples: Example[], padTokenId: number): TokenBatch {
  const B = examples.length;
  const T = Math.max(...examples.map((e) => e.ids.length));
  const inputIds = new BigInt64Array(B * T).fill(BigInt(padTokenId));
  const attentionMask = new BigInt64Array(B * T);
  const labels = new BigInt64Array(B * T).fill(-100n);
  let tokens = 0;
  examples.forEach((e, b) => {
    for (let t = 0; t < e.ids.length; t++) {
      inputIds[b * T + t] = BigInt(e.ids[t]!);
      attentionMask[b * T + t] = 1n;
      labels[b * T + t] = BigInt(e.labels[t]!);
    }
    tokens += e.tokens;
  });
  return { B, T, inputIds, attentionMask, labels, tokens };
}

/** Throws the clear error for a split with nothing to train on. */
export function requireExamples(split: string, file: string, enc: EncodeResult, records: number): void {
  if (records === 0) throw new UserError('empty-split', `${file}: the ${split} split is empty; lora-train needs at least one record`, { location: { file } });
  if (enc.examples.length === 0) {
    throw new UserError('empty-split', `${file}: none of the ${records} ${split} records has an answer token within max_seq_length (skipped: ${enc.skipped.slice(0, 5).join(', ')}${enc.skipped.length > 5 ? ', …' : ''})`, { location: { file } });
  }
}
