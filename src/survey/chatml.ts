import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../core/errors.js';
import { readJsonFile } from '../core/files.js';
import type { ChatMessage } from '../formats/chatml.js';
import { DEFAULT_SYSTEM_PROMPT, promptMessages, type DatasetRecord } from './record.js';

/**
 * Algorithm 1's message triplets and their rendering.
 *
 * messages: a record's own [system, user, assistant] when it has them (a system turn is added
 * when missing), else rebuilt from persona + domain + question (+ scale) and the reference.
 * text: the conversation rendered with the model tokenizer's native chat template when the
 * model dir's tokenizer_config.json has one, else the standard ChatML layout
 * `<|im_start|>{role}\n{content}<|im_end|>\n` per turn.
 */
export function recordMessages(record: DatasetRecord, systemPrompt = DEFAULT_SYSTEM_PROMPT): ChatMessage[] {
  const own = record.messages;
  if (own && own.some((m) => m.role === 'user') && own.at(-1)?.role === 'assistant') {
    return own[0]!.role === 'system' ? own.map((m) => ({ ...m })) : [{ role: 'system', content: systemPrompt }, ...own.map((m) => ({ ...m }))];
  }
  return [...promptMessages(record, systemPrompt), { role: 'assistant', content: record.reference }];
}

/** The standard ChatML fallback rendering. */
export function renderChatMl(messages: readonly ChatMessage[], addGenerationPrompt = false): string {
  const body = messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join('');
  return addGenerationPrompt ? `${body}<|im_start|>assistant\n` : body;
}

export type ChatRenderer = { kind: 'native' | 'chatml'; render(messages: ChatMessage[]): string };

/** The chat_template of a HF model dir, when tokenizer_config.json (or chat_template.jinja) has one. */
export function findChatTemplate(modelDir: string): string | undefined {
  const jinja = join(modelDir, 'chat_template.jinja');
  if (existsSync(jinja)) return readFileSync(jinja, 'utf8');
  const configPath = join(modelDir, 'tokenizer_config.json');
  if (!existsSync(configPath)) return undefined;
  const config = readJsonFile(configPath, 'the tokenizer config') as { chat_template?: unknown } | null;
  const t = config?.chat_template;
  if (typeof t === 'string' && t.trim() !== '') return t;
  if (Array.isArray(t)) {
    const named = t.find((x: { name?: string; template?: string }) => x?.name === 'default') ?? t[0];
    if (named && typeof named.template === 'string') return named.template;
  }
  return undefined;
}

/**
 * The model tokenizer's native template through @huggingface/transformers (loaded from the
 * local dir only; remote loading is switched off for the duration and restored after). The
 * template is passed explicitly, so one from chat_template.jinja works too.
 */
export async function nativeRenderer(modelDir: string, chatTemplate: string): Promise<ChatRenderer> {
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  const saved = { allowRemoteModels: env.allowRemoteModels, allowLocalModels: env.allowLocalModels, localModelPath: env.localModelPath };
  let tokenizer: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;
  try {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = '/';
    tokenizer = await AutoTokenizer.from_pretrained(modelDir, { local_files_only: true });
  } catch (err) {
    throw new DataError('tokenizer', `cannot load the tokenizer in ${modelDir}: ${(err as Error).message}`, { location: { file: modelDir }, cause: err });
  } finally {
    Object.assign(env, saved);
  }
  return {
    kind: 'native',
    render(messages) {
      const out = tokenizer.apply_chat_template(messages as unknown as Parameters<typeof tokenizer.apply_chat_template>[0], { tokenize: false, chat_template: chatTemplate });
      if (typeof out !== 'string') throw new DataError('tokenizer', `chat template of ${modelDir} did not render to a string`);
      return out;
    },
  };
}

export const chatMlRenderer: ChatRenderer = { kind: 'chatml', render: (m) => renderChatMl(m) };
