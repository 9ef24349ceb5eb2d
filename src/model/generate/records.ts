/**
 * ChatML split files (train/val/test.jsonl from build-chatml): one JSON record a line with
 * `messages` in the Hugging Face chat format plus `id`, `domain`, `question_type`, `reference`.
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../../core/errors.js';
import type { ChatMessage } from './generator.js';

export interface ChatRecord {
  id: string;
  domain: string | null;
  questionType: string | null;
  /** `reference`, else the content of the last assistant message, else null. */
  reference: string | null;
  messages: ChatMessage[];
  /** 1-based line in the file. */
  line: number;
}

export function readChatmlSplit(path: string): ChatRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DataError('missing-file', `${path}: cannot read the ChatML split (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { location: { file: path } });
  }
  const records: ChatRecord[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim()) return;
    const fail = (msg: string): never => {
      throw new DataError('bad-record', `${path}:${line}: ${msg}`, { location: { file: path, line } });
    };
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(raw) as Record<string, unknown>;
    } catch (err) {
      return fail(`not valid JSON (${(err as Error).message})`);
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) fail('a record must be a JSON object');
    const id = typeof rec.id === 'string' || typeof rec.id === 'number' ? String(rec.id) : fail('record has no "id"');
    if (seen.has(id)) fail(`duplicate id "${id}" (first on line ${seen.get(id)})`);
    seen.set(id, line);
    if (!Array.isArray(rec.messages) || rec.messages.length === 0) fail(`record "${id}": "messages" must be a non-empty array`);
    const messages = (rec.messages as unknown[]).map((m, j): ChatMessage => {
      const msg = m as Record<string, unknown>;
      if (typeof msg !== 'object' || msg === null || typeof msg.role !== 'string' || typeof msg.content !== 'string') {
        return fail(`record "${id}": messages[${j}] needs string "role" and "content"`);
      }
      return { role: msg.role, content: msg.content };
    });
    if (!messages.some((m) => m.role === 'user')) fail(`record "${id}": no user message to answer`);
    const lastAssistant = [...messages].reverse().find((m) => m.role === 'assistant');
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    records.push({ id, domain: str(rec.domain), questionType: str(rec.question_type), reference: str(rec.reference) ?? lastAssistant?.content ?? null, messages, line });
  });
  return records;
}

/** The messages the model sees: everything before the trailing assistant turn(s). */
export function promptMessages(record: ChatRecord): ChatMessage[] {
  let end = record.messages.length;
  while (end > 0 && record.messages[end - 1]!.role === 'assistant') end--;
  return record.messages.slice(0, end);
}
