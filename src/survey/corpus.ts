import type { ChatMessage } from '../formats/chatml.js';
import { personaBlock, questionBlock, type DatasetRecord } from './record.js';

/**
 * A pretraining corpus from a ChatML split, UNPAIRED: each persona card once as a document of its
 * own, and each question with its reference answer but without the persona. A base model
 * pretrained on it (lora-train with `trainable: full`, `loss_on: all`) has read every card, every
 * question and every answer of the training split — the language and the answer formats — yet
 * has never seen who gave which answer. What fine-tuning on the paired, persona-conditioned
 * ChatML then adds is exactly the persona conditioning (the role a pretrained chat model plays in
 * the paper: it answers survey questions fluently, but not as the persona would).
 *
 * Documents keep the chat layout (lora-train reads `messages`):
 *   persona:  [system: PERSONA_DOCUMENT_PROMPT, user: PERSONA_DOCUMENT_REQUEST, assistant: the persona block of the prompt]
 * (a ChatML record needs a user turn: src/formats/chatml.ts)
 *   answer:   [system: ANSWER_DOCUMENT_PROMPT, user: the prompt without its persona block, assistant: reference]
 */
export type CorpusDocumentKind = 'personas' | 'answers';
export const CORPUS_DOCUMENT_KINDS: readonly CorpusDocumentKind[] = ['personas', 'answers'];

export const PERSONA_DOCUMENT_PROMPT = 'A respondent of the survey panel.';
export const PERSONA_DOCUMENT_REQUEST = 'Describe the respondent.';
export const ANSWER_DOCUMENT_PROMPT = 'You are taking part in a survey. Answer the question.';

/** The fields of a ChatML split record this module reads. */
export type CorpusSource = Pick<DatasetRecord, 'id' | 'domain' | 'question_type' | 'question' | 'persona' | 'reference' | 'meta'>;

export interface CorpusDocument {
  id: string;
  /** The split record (answers) or the persona (personas) the document came from. */
  meta: { document: 'persona' | 'answer'; source_id: string };
  messages: ChatMessage[];
}

/** The persona's id: `meta.persona_id`, a card's `id`, else the card itself as canonical text. */
export function personaKey(record: { persona?: unknown; meta?: Record<string, unknown> }): string {
  const fromMeta = record.meta?.persona_id;
  if (typeof fromMeta === 'string' && fromMeta !== '') return fromMeta;
  const p = record.persona;
  if (typeof p === 'object' && p !== null && typeof (p as { id?: unknown }).id === 'string') return (p as { id: string }).id;
  return typeof p === 'string' ? p : JSON.stringify(p);
}

/**
 * The corpus of one split, in a fixed order: persona documents first (by first appearance), then
 * answer documents in record order. lora-train shuffles examples itself.
 */
export function pretrainingCorpus(records: readonly CorpusSource[], kinds: readonly CorpusDocumentKind[]): CorpusDocument[] {
  const out: CorpusDocument[] = [];
  if (kinds.includes('personas')) {
    const seen = new Set<string>();
    for (const r of records) {
      const key = personaKey(r);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        id: `persona:${key.length <= 64 ? key : r.id}`,
        meta: { document: 'persona', source_id: r.id },
        messages: [{ role: 'system', content: PERSONA_DOCUMENT_PROMPT }, { role: 'user', content: PERSONA_DOCUMENT_REQUEST }, { role: 'assistant', content: personaBlock(r.persona) }],
      });
    }
  }
  if (kinds.includes('answers')) {
    for (const r of records) {
      out.push({
        id: `answer:${r.id}`,
        meta: { document: 'answer', source_id: r.id },
        messages: [{ role: 'system', content: ANSWER_DOCUMENT_PROMPT }, { role: 'user', content: questionBlock(r) }, { role: 'assistant', content: r.reference }],
      });
    }
  }
  return out;
}
