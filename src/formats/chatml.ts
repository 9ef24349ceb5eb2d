/**
 * The ChatML record format (schemas/chatml-record.schema.json): one JSON object a line in a
 * chatml artifact's `train.jsonl`, `val.jsonl` and `test.jsonl`.
 *
 *   { id, domain, question_type, persona, question: { id, text, scale?, construct? }, reference,
 *     meta, messages: [{ role, content }, ...], text }
 *
 * build-chatml writes every field (writeChatmlSplit); lora-train, generate and init-model read
 * with readChatmlSplit, one set of rules for all: a record needs an `id` (unique in its file) and
 * `messages` in the Hugging Face chat format with at least one user turn; every other field is
 * optional, so a chat dataset from elsewhere works too, but is checked when present.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../core/errors.js';
import { readTextFile } from '../core/files.js';
import { idOf, jsonlLines, toJsonl } from './jsonl.js';
import { schemaProblem } from './schema-check.js';
import { scaleProblem, type ItemScale, type QuestionType, type RecordQuestion } from './survey-item.js';

export const CHAT_ROLES = ['system', 'user', 'assistant'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

/** One turn in the Hugging Face chat format. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** A ChatML record as a reader sees it: `id` and `messages`, the rest when the file has them. */
export interface ChatmlRecord {
  id: string;
  messages: ChatMessage[];
  domain?: string;
  question_type?: string;
  question?: RecordQuestion;
  /** A persona card, a partial card (imports) or the persona's free text. */
  persona?: object | string;
  reference?: string;
  meta?: Record<string, unknown>;
  /** The conversation rendered with the chat template the split was built with. */
  text?: string;
}

/** What build-chatml writes: every field. */
export interface BuiltChatmlRecord extends Required<ChatmlRecord> {
  question_type: QuestionType;
  question: RecordQuestion<ItemScale>;
}

/** A record read from a split file, with its 1-based line (for error messages). */
export interface NumberedChatmlRecord extends ChatmlRecord {
  line: number;
}

/** The split file of a chatml artifact: `<dir>/<split>.jsonl`. */
export function chatmlSplitFile(dir: string, split: string): string {
  return join(dir, `${split}.jsonl`);
}

/** Key order of a written record (the split files are content-hashed: keep it). */
const FIELD_ORDER = ['id', 'domain', 'question_type', 'persona', 'question', 'reference', 'meta', 'messages', 'text'] as const;

/** Writes one split file, records in the given order. */
export function writeChatmlSplit(file: string, records: readonly BuiltChatmlRecord[]): void {
  writeFileSync(file, toJsonl(records.map((r) => Object.fromEntries(FIELD_ORDER.map((k) => [k, r[k]])))));
}

/**
 * Reads one split file. The first bad line throws a DataError naming file, line, record id and
 * field: `test.jsonl:2: record "x1": messages: needs a message with role "user"`.
 */
export function readChatmlSplit(file: string): NumberedChatmlRecord[] {
  const text = readTextFile(file, 'the ChatML split');
  const records: NumberedChatmlRecord[] = [];
  const seen = new Map<string, number>();
  for (const row of jsonlLines(text)) {
    const { line } = row;
    const id = idOf(row.value);
    const fail = (message: string): never => {
      throw new DataError('bad-record', `${file}:${line}: ${id === undefined ? '' : `record "${id}": `}${message}`, { location: { file, line } });
    };
    if (row.problem !== undefined) return fail(row.problem);
    const schema = schemaProblem('chatml-record', row.value);
    if (schema !== undefined) fail(schema);
    const scale = (row.value.question as RecordQuestion | undefined)?.scale;
    const scaleIssue = scale === undefined ? undefined : scaleProblem(scale);
    if (scaleIssue !== undefined) fail(`question.scale: ${scaleIssue}`);
    const first = seen.get(id!);
    if (first !== undefined) fail(`duplicate id (first on line ${first})`);
    seen.set(id!, line);
    const messages = (row.value.messages as ChatMessage[]).map((m) => ({ role: m.role, content: m.content }));
    records.push({ ...(row.value as Omit<ChatmlRecord, 'id' | 'messages'>), id: id!, messages, line });
  }
  return records;
}

/** The messages the model answers: everything before the trailing assistant turn(s). */
export function chatmlPrompt(record: Pick<ChatmlRecord, 'messages'>): ChatMessage[] {
  let end = record.messages.length;
  while (end > 0 && record.messages[end - 1]!.role === 'assistant') end--;
  return record.messages.slice(0, end);
}

/** The reference answer: `reference`, else the last assistant turn, else null (a prompt-only record). */
export function chatmlReference(record: Pick<ChatmlRecord, 'messages' | 'reference'>): string | null {
  if (record.reference !== undefined) return record.reference;
  for (let i = record.messages.length - 1; i >= 0; i--) if (record.messages[i]!.role === 'assistant') return record.messages[i]!.content;
  return null;
}
