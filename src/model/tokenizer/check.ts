/**
 * Checks of a model dir's tokenizer files that transformers.js does not make: it loads a
 * `tokenizer.json` whose vocabulary is a list instead of a map and then encodes text into
 * nonsense ids without a word, and it compiles the chat template only when a prompt is first
 * rendered (a syntax error surfaced as a raw "Unexpected end of input" in the middle of
 * `generate`). Each problem here is one DataError naming the file and the field.
 *
 * Shapes checked (the `tokenizers` library's serialisation):
 *   tokenizer.json  { model: { type, vocab, merges? }, added_tokens?: [{ id, content }] }
 *     BPE, WordPiece, WordLevel: vocab = { token: id }       (ids non-negative integers)
 *     Unigram:                   vocab = [[token, score], …]
 *     BPE:                       merges = ["a b", …] or [["a", "b"], …]
 *   tokenizer_config.json  an object; chat_template, when present, a string or a list of
 *     { name, template } (rendered by the caller, see loadTokenizer)
 */
import { join } from 'node:path';
import { DataError } from '../../core/errors.js';
import { readTextFile } from '../../core/files.js';

/** Largest tokenizer file read (real ones are up to ~20 MiB: Qwen2's is 7 MiB). */
const MAX_TOKENIZER_BYTES = 256 << 20;

export function checkTokenizerFiles(dir: string): void {
  const tokenizerPath = join(dir, 'tokenizer.json');
  const tokenizer = readJsonObject(tokenizerPath);
  const model = tokenizer.model;
  if (model === null || typeof model !== 'object' || Array.isArray(model)) throw bad(tokenizerPath, 'model', 'must be an object', model);
  const m = model as Record<string, unknown>;
  const type = typeof m.type === 'string' ? m.type : undefined;
  if (type === 'Unigram') {
    if (!Array.isArray(m.vocab) || !m.vocab.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number')) {
      throw bad(tokenizerPath, 'model.vocab', 'must be a list of [token, score] pairs for a Unigram model', m.vocab);
    }
  } else {
    checkVocabMap(tokenizerPath, m.vocab, type);
    if (type === 'BPE' && m.merges !== undefined) {
      const ok = Array.isArray(m.merges) && m.merges.every((x) => typeof x === 'string' || (Array.isArray(x) && x.length === 2 && x.every((p) => typeof p === 'string')));
      if (!ok) throw bad(tokenizerPath, 'model.merges', 'must be a list of "a b" strings or [a, b] pairs', m.merges);
    }
  }
  if (tokenizer.added_tokens !== undefined && tokenizer.added_tokens !== null) {
    const ok = Array.isArray(tokenizer.added_tokens) && tokenizer.added_tokens.every((t) => isId((t as { id?: unknown })?.id) && typeof (t as { content?: unknown })?.content === 'string');
    if (!ok) throw bad(tokenizerPath, 'added_tokens', 'must be a list of { id, content } with integer ids', tokenizer.added_tokens);
  }

  const configPath = join(dir, 'tokenizer_config.json');
  const config = readJsonObject(configPath);
  const template = config.chat_template;
  if (template !== undefined && template !== null && typeof template !== 'string') {
    const named = Array.isArray(template) && template.every((t) => typeof (t as { name?: unknown })?.name === 'string' && typeof (t as { template?: unknown })?.template === 'string');
    if (!named) throw bad(configPath, 'chat_template', 'must be a string (a Jinja template) or a list of { name, template }', template);
  }
}

function checkVocabMap(path: string, vocab: unknown, type: string | undefined): void {
  const what = type ? `a ${type} model` : 'this model';
  if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab)) throw bad(path, 'model.vocab', `must map each token to an integer id for ${what}`, vocab);
  for (const [token, id] of Object.entries(vocab)) {
    if (!isId(id)) throw bad(path, `model.vocab[${JSON.stringify(token)}]`, 'must be a non-negative integer id', id);
  }
}

function isId(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function readJsonObject(path: string): Record<string, unknown> {
  const text = readTextFile(path, 'tokenizer file', { maxBytes: MAX_TOKENIZER_BYTES });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DataError('bad-tokenizer', `${path}: not valid JSON (${(err as Error).message})`, { location: { file: path } });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new DataError('bad-tokenizer', `${path}: must hold a JSON object`, { location: { file: path } });
  return value as Record<string, unknown>;
}

function bad(path: string, field: string, rule: string, got: unknown): DataError {
  const shown = got === undefined || got === null ? 'nothing' : Array.isArray(got) ? 'a list' : typeof got === 'object' ? 'an object' : `${typeof got} ${JSON.stringify(got).slice(0, 40)}`;
  return new DataError('bad-tokenizer', `${path}: ${field} ${rule} (got ${shown})`, { location: { file: path } });
}
