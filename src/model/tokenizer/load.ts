import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '../../core/errors.js';
import { checkTokenizerFiles } from './check.js';
import type { PreTrainedTokenizer } from '@huggingface/transformers';

export type Tokenizer = PreTrainedTokenizer;

/**
 * Loads `tokenizer.json` + `tokenizer_config.json` from a model dir through transformers.js,
 * offline. transformers.js is imported lazily (it is heavy). An absolute path is not a valid
 * hub model id, so transformers.js reads the files from that path itself; remote lookups and its
 * file cache are switched off so nothing is fetched or written.
 */
export async function loadTokenizer(modelDir: string): Promise<Tokenizer> {
  const dir = resolve(modelDir);
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!existsSync(join(dir, file))) {
      throw new DataError('missing-tokenizer', `${dir}: no ${file} (a model dir needs tokenizer.json and tokenizer_config.json)`, { location: { file: join(dir, file) } });
    }
  }
  checkTokenizerFiles(dir);
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  let tokenizer: Tokenizer;
  try {
    tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  } catch (err) {
    throw new DataError('bad-tokenizer', `${dir}: cannot load the tokenizer (${(err as Error).message})`, { location: { file: join(dir, 'tokenizer.json') }, cause: err });
  }
  checkChatTemplate(tokenizer, join(dir, 'tokenizer_config.json'));
  return tokenizer;
}

/**
 * Renders the chat template once, on the smallest chat (one user message), so that a template
 * with a syntax error is named when the tokenizer loads, not as a raw parser error in the middle
 * of `generate` or a `serve` request. Every real template renders a single user message.
 */
function checkChatTemplate(tokenizer: Tokenizer, configPath: string): void {
  if (!tokenizer.chat_template) return;
  try {
    tokenizer.apply_chat_template([{ role: 'user', content: 'hello' }], { add_generation_prompt: true, tokenize: false });
  } catch (err) {
    const why = ((err as Error).message ?? String(err)).split('\n')[0];
    throw new DataError('bad-chat-template', `${configPath}: chat_template cannot render a one-message chat: ${why}`, { location: { file: configPath }, cause: err });
  }
}
