import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { QUESTION_TYPES, type QuestionType } from '../formats/survey-item.js';
import { CHAT_ROLES, type ChatMessage } from '../formats/chatml.js';
import type { DatasetRecord } from './record.js';

/**
 * Normalisation of PolyPersona-format records from other tools (the paper's Algorithm 1:
 * tolerate schema variations and missing fields). Accepted spellings, first match wins:
 *   id         id, uid, record_id, _id                     (missing: <file>:<line>)
 *   domain     domain, category, survey_domain, meta.domain_id, meta.domain
 *   question   question (text or {id, text}), question_text, prompt, item
 *   type       question_type, type, qtype, meta.question_type (yes/no, yes_no, binary, likert_scale,
 *              rating, agree, open-ended, free_text, ... mapped to the four types; missing: open)
 *   reference  reference, response, answer, output, completion, target, or the assistant message
 *   persona    persona (card object or text), persona_text, persona_description, profile, or the
 *              user message's text before "Domain:"
 *   messages   kept when a valid system/user/assistant list; else rebuilt later by build-chatml
 * A record that cannot be normalised comes back as a rejection with its id and the reason.
 */
export type ImportOutcome = { ok: true; record: DatasetRecord } | { ok: false; id: string; reason: string };

export interface SourcePosition {
  file: string;
  /** 1-based line (JSONL) or array index + 1 (JSON array). */
  line: number;
  /** train / val / test when the file name says so. */
  split?: string;
}

const TYPE_ALIASES: Record<string, QuestionType> = {
  open: 'open', 'open-ended': 'open', open_ended: 'open', openended: 'open', free_text: 'open', 'free-text': 'open', text: 'open', free: 'open',
  likert: 'likert', likert_scale: 'likert', 'likert-scale': 'likert', rating: 'likert', scale: 'likert',
  yesno: 'yesno', 'yes/no': 'yesno', yes_no: 'yesno', 'yes-no': 'yesno', binary: 'yesno', boolean: 'yesno',
  agreement: 'agreement', agree: 'agreement', agree_disagree: 'agreement', 'agree-disagree': 'agreement', agreement_scale: 'agreement',
};

function firstString(obj: Record<string, unknown>, keys: string[]): string | undefined {
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

function validMessages(v: unknown): ChatMessage[] | undefined {
  if (!Array.isArray(v) || v.length < 2) return undefined;
  const ok = v.every((m) => m && typeof m === 'object' && (CHAT_ROLES as readonly string[]).includes((m as ChatMessage).role) && typeof (m as ChatMessage).content === 'string');
  return ok ? (v as ChatMessage[]).map((m) => ({ role: m.role, content: m.content })) : undefined;
}

const shortHash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 10);

/** The split a file name implies: data_train.json -> train, my-validation.jsonl -> val. */
export function splitFromFileName(file: string): string | undefined {
  const name = basename(file).toLowerCase();
  if (/(^|[^a-z])train([^a-z]|$)/.test(name)) return 'train';
  if (/(^|[^a-z])(val|valid|validation|dev)([^a-z]|$)/.test(name)) return 'val';
  if (/(^|[^a-z])test([^a-z]|$)/.test(name)) return 'test';
  return undefined;
}

export function normalizeRecord(raw: unknown, pos: SourcePosition): ImportOutcome {
  const fallbackId = `${basename(pos.file)}:${pos.line}`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, id: fallbackId, reason: 'not a JSON object' };
  const r = raw as Record<string, unknown>;
  const meta = (r.meta && typeof r.meta === 'object' && !Array.isArray(r.meta) ? r.meta : r.metadata && typeof r.metadata === 'object' ? r.metadata : {}) as Record<string, unknown>;
  const id = firstString(r, ['id', 'uid', 'record_id', '_id']) ?? fallbackId;
  const reject = (reason: string): ImportOutcome => ({ ok: false, id, reason });
  const messages = validMessages(r.messages ?? r.conversations);
  if (r.messages !== undefined && !messages) return reject('messages is not a list of {role: system|user|assistant, content: string}');

  const domain = firstString(r, ['domain', 'category', 'survey_domain']) ?? firstString(meta, ['domain_id', 'domain']);
  if (!domain) return reject('no domain (domain, category, survey_domain, meta.domain_id)');

  let questionText: string | undefined;
  let questionId = firstString(meta, ['question_id']) ?? firstString(r, ['question_id']);
  if (r.question && typeof r.question === 'object' && !Array.isArray(r.question)) {
    const q = r.question as Record<string, unknown>;
    questionText = firstString(q, ['text', 'question', 'prompt']);
    questionId = firstString(q, ['id']) ?? questionId;
  } else questionText = firstString(r, ['question', 'question_text', 'prompt', 'item']);
  if (!questionText) return reject('no question text (question, question_text, prompt, item)');

  const rawType = firstString(r, ['question_type', 'qtype', 'type']) ?? firstString(meta, ['question_type', 'type']);
  let questionType: QuestionType = 'open';
  if (rawType !== undefined) {
    const mapped = TYPE_ALIASES[rawType.toLowerCase().replace(/\s+/g, '_')];
    if (!mapped) return reject(`unknown question type "${rawType}" (expected one of ${QUESTION_TYPES.join(', ')})`);
    questionType = mapped;
  }

  const assistant = messages?.filter((m) => m.role === 'assistant').at(-1)?.content.trim();
  const reference = firstString(r, ['reference', 'response', 'answer', 'output', 'completion', 'target']) ?? (assistant || undefined);
  if (!reference) return reject('no reference answer (reference, response, answer, output, or an assistant message)');

  let persona: DatasetRecord['persona'] | undefined;
  const rawPersona = r.persona ?? r.profile;
  if (rawPersona && typeof rawPersona === 'object' && !Array.isArray(rawPersona) && Object.keys(rawPersona).length > 0) persona = rawPersona as Record<string, unknown>;
  else persona = firstString(r, ['persona', 'persona_text', 'persona_description', 'profile']);
  if (persona === undefined && messages) {
    const user = messages.find((m) => m.role === 'user')?.content ?? '';
    const block = user.split(/\n\s*Domain:/)[0]!.replace(/^\s*Persona:\s*/i, '').trim();
    if (block !== '' && block !== user.trim()) persona = block;
  }
  if (persona === undefined) return reject('no persona (persona object or text, persona_text, profile, or a "Persona: ... Domain:" user message)');

  const personaId = firstString(meta, ['persona_id']) ?? firstString(r, ['persona_id']) ?? `pp-${shortHash(JSON.stringify(persona))}`;
  const record: DatasetRecord = {
    id,
    domain: domain.toLowerCase().replace(/[\s-]+/g, '_'),
    question_type: questionType,
    question: { id: questionId ?? `q-${shortHash(questionText)}`, text: questionText },
    persona,
    reference,
    meta: {
      ...meta,
      persona_id: personaId,
      question_id: questionId ?? `q-${shortHash(questionText)}`,
      source_file: basename(pos.file),
      source_line: pos.line,
      ...(pos.split ? { split: pos.split } : {}),
      ...(rawType === undefined ? { question_type_inferred: true } : {}),
    },
  };
  // Keep the source triplet only when its answer is the reference (else build-chatml rebuilds it).
  if (messages && messages.some((m) => m.role === 'user') && assistant === reference) record.messages = messages;
  return { ok: true, record };
}
