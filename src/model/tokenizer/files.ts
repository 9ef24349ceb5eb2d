import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { BYTE_LEVEL_BASE_VOCAB, BYTE_TO_CHAR, BYTE_TOKEN_OFFSET, SPECIAL_TOKENS } from './vocab.js';
import { InternalError } from '../../core/errors.js';

/**
 * The Hugging Face tokenizer files of a byte-level BPE tokenizer: `tokenizer.json` (the
 * `tokenizers` library's format: ByteLevel pre-tokenizer and decoder, a BPE model, ChatML special
 * tokens as added_tokens) and `tokenizer_config.json` (class, special tokens, ChatML
 * `chat_template`). Both Python transformers and transformers.js load them.
 */

/**
 * ChatML, as Qwen2's template renders it, minus Qwen's injected default system prompt: a
 * persona dataset states its own system message, and an injected one would change the prompt a
 * model was trained on. `add_generation_prompt` opens the assistant turn.
 */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface ByteLevelTokenizerSpec {
  /** Learned merges in rank order (from trainByteLevelBpe); none gives a pure byte tokenizer. */
  merges?: Array<[string, string]>;
  modelMaxLength?: number;
}

/** Number of tokens (specials + bytes + merges). */
export function byteLevelVocabSize(spec: ByteLevelTokenizerSpec): number {
  return BYTE_LEVEL_BASE_VOCAB + (spec.merges?.length ?? 0);
}

export function buildTokenizerJson(spec: ByteLevelTokenizerSpec): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  SPECIAL_TOKENS.forEach((t, i) => (vocab[t] = i));
  for (let b = 0; b < 256; b++) vocab[BYTE_TO_CHAR[b]!] = BYTE_TOKEN_OFFSET + b;
  let next = BYTE_LEVEL_BASE_VOCAB;
  const merges: string[] = [];
  for (const [left, right] of spec.merges ?? []) {
    if (!(left in vocab) || !(right in vocab)) throw new InternalError(`tokenizer merge "${left} ${right}" uses a token not yet in the vocabulary`);
    const joined = left + right;
    if (!(joined in vocab)) vocab[joined] = next++;
    merges.push(`${left} ${right}`);
  }
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

export function buildTokenizerConfig(spec: ByteLevelTokenizerSpec): Record<string, unknown> {
  const addedTokensDecoder: Record<string, unknown> = {};
  SPECIAL_TOKENS.forEach((content, id) => {
    addedTokensDecoder[String(id)] = { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  });
  return {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: null,
    chat_template: CHATML_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: spec.modelMaxLength ?? 2048,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    // The generic class, so every loader uses tokenizer.json as written. A named class such as
    // Qwen2Tokenizer makes Python transformers 5 rebuild the pipeline its own way (Qwen's
    // pre-tokenizer splits digits one by one), and a Python user would get other ids than ours.
    // transformers 5 maps this name to TokenizersBackend; transformers.js to its base tokenizer.
    tokenizer_class: 'PreTrainedTokenizerFast',
    unk_token: null,
  };
}

/** File name → content of the tokenizer files (JSON, 2-space indented, trailing newline). */
export function byteLevelTokenizerFiles(spec: ByteLevelTokenizerSpec): Record<string, string> {
  return {
    'tokenizer.json': `${JSON.stringify(buildTokenizerJson(spec), null, 2)}\n`,
    'tokenizer_config.json': `${JSON.stringify(buildTokenizerConfig(spec), null, 2)}\n`,
  };
}

/** The tokenizer files a model dir has (tokenizer.json, its config, the special-tokens map, the chat template file transformers 5 writes), name → content. */
export function readTokenizerFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja']) if (existsSync(join(dir, f))) files[f] = readFileSync(join(dir, f), 'utf8');
  return files;
}

export function writeTokenizerFiles(dir: string, files: Record<string, string>): string[] {
  for (const [name, content] of Object.entries(files)) writeFileAtomic(join(dir, name), content);
  return Object.keys(files);
}
