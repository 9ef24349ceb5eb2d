import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '../../core/errors.js';
import type { PreTrainedTokenizer } from '@huggingface/transformers';

export type Tokenizer = PreTrainedTokenizer;

/** Where transformers ≥ 4.43 may write the chat template (always, from version 5). */
export const CHAT_TEMPLATE_FILE = 'chat_template.jinja';

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
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  try {
    const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    // transformers ≥ 4.43 may keep the chat template in its own file, and transformers 5 always
    // does (save_pretrained leaves it out of tokenizer_config.json); transformers.js reads that
    // file only for processors. As in transformers, the file wins over the config's template.
    const templateFile = join(dir, CHAT_TEMPLATE_FILE);
    if (existsSync(templateFile)) tokenizer.chat_template = readFileSync(templateFile, 'utf8');
    return tokenizer;
  } catch (err) {
    throw new DataError('bad-tokenizer', `${dir}: cannot load the tokenizer (${(err as Error).message})`, { location: { file: join(dir, 'tokenizer.json') }, cause: err });
  }
}
