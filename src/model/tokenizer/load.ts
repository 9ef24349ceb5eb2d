import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '../../core/errors.js';
import { checkTokenizerFiles } from './check.js';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { CHATML_TEMPLATE } from './files.js';

export type Tokenizer = PreTrainedTokenizer;

/** Where transformers ≥ 4.43 may write the chat template (always, from version 5). */
export const CHAT_TEMPLATE_FILE = 'chat_template.jinja';

/**
 * Loads `tokenizer.json` + `tokenizer_config.json` from a model dir through transformers.js,
 * offline. transformers.js is imported lazily (it is heavy). An absolute path is not a valid
 * hub model id, so transformers.js reads the files from that path itself; remote lookups and its
 * file cache are switched off so nothing is fetched or written. Without a chat template of its
 * own the tokenizer gets the ChatML one (CHATML_TEMPLATE).
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
  // transformers ≥ 4.43 may keep the chat template in its own file, and transformers 5 always
  // does (save_pretrained leaves it out of tokenizer_config.json); transformers.js reads that
  // file only for processors. As in transformers, the file wins over the config's template.
  const templateFile = join(dir, CHAT_TEMPLATE_FILE);
  const hasTemplateFile = existsSync(templateFile);
  try {
    tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    if (hasTemplateFile) tokenizer.chat_template = readFileSync(templateFile, 'utf8');
  } catch (err) {
    throw new DataError('bad-tokenizer', `${dir}: cannot load the tokenizer (${(err as Error).message})`, { location: { file: join(dir, 'tokenizer.json') }, cause: err });
  }
  checkChatTemplate(tokenizer, hasTemplateFile ? templateFile : join(dir, 'tokenizer_config.json'));
  // A model without a chat template (a base model such as microsoft/phi-2) gets the ChatML
  // fallback of Algorithm 1, which build-chatml renders its records with, so that training and
  // generation format chats as the dataset does (transformers would refuse to apply none).
  if (!tokenizer.chat_template) tokenizer.chat_template = CHATML_TEMPLATE;
  return tokenizer;
}

/**
 * Renders the chat template once, on the smallest chat (one user message), so that a template
 * with a syntax error is named when the tokenizer loads, not as a raw parser error in the middle
 * of `generate` or a `serve` request. Every real template renders a single user message.
 */
function checkChatTemplate(tokenizer: Tokenizer, file: string): void {
  if (!tokenizer.chat_template) return;
  try {
    tokenizer.apply_chat_template([{ role: 'user', content: 'hello' }], { add_generation_prompt: true, tokenize: false });
  } catch (err) {
    const why = ((err as Error).message ?? String(err)).split('\n')[0];
    const what = file.endsWith('.jinja') ? 'the chat template' : 'chat_template';
    throw new DataError('bad-chat-template', `${file}: ${what} cannot render a one-message chat: ${why}`, { location: { file }, cause: err });
  }
}
