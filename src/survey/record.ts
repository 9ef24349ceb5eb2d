import { DataError } from '../core/errors.js';
import type { ChatMessage } from '../formats/chatml.js';
import { idOf } from '../formats/jsonl.js';
import { schemaProblem } from '../formats/schema-check.js';
import type { ItemScale, QuestionType, RecordQuestion } from '../formats/survey-item.js';
import { readJsonl } from './jsonl.js';
import type { PersonaCard } from './persona.js';

/**
 * One line of dataset.jsonl (schemas/dataset-record.schema.json): a persona's reference answer
 * to one survey item. `persona` is a full card for generated data; imported data may carry a
 * partial card or the persona's free text.
 */
export interface DatasetRecord {
  id: string;
  domain: string;
  question_type: QuestionType;
  question: RecordQuestion<ItemScale>;
  persona: PersonaCard | Record<string, unknown> | string;
  reference: string;
  /** Imported records keep their own message triplet when they had one. */
  messages?: ChatMessage[];
  meta: Record<string, unknown>;
}

/** The file of a responses artifact. */
export const DATASET_FILE = 'dataset.jsonl';

/**
 * Reads dataset.jsonl, every record checked against schemas/dataset-record.schema.json; the first
 * bad one throws a DataError `FILE:LINE: record "ID": field: message`.
 */
export function readDatasetFile(file: string): DatasetRecord[] {
  return readJsonl(file).map(({ line, value }) => {
    const problem = schemaProblem('dataset-record', value);
    if (problem !== undefined) {
      const id = idOf(value);
      throw new DataError('bad-record', `${file}:${line}: ${id === undefined ? '' : `record "${id}": `}${problem}`, { location: { file, line } });
    }
    return value as unknown as DatasetRecord;
  });
}

export const DEFAULT_SYSTEM_PROMPT =
  'You are taking part in a survey as the person described below. Stay in character: answer the way this person would, consistent with their background, values and circumstances.';

const CARD_LINES: Array<[string, string]> = [
  ['age', 'Age'],
  ['gender', 'Gender'],
  ['occupation', 'Occupation'],
  ['education', 'Education'],
  ['region', 'Region'],
  ['income_bracket', 'Income'],
  ['values', 'Values'],
  ['traits', 'Traits'],
  ['interests', 'Interests'],
  ['description', 'About'],
];

/** The persona block of the user message: one "Label: value" line per known card field, or the text. */
export function personaBlock(persona: DatasetRecord['persona']): string {
  if (typeof persona === 'string') return `Persona:\n  ${persona.trim()}`;
  const lines: string[] = [];
  for (const [key, label] of CARD_LINES) {
    const v = (persona as Record<string, unknown>)[key];
    if (v === undefined || v === null || v === '') continue;
    const text = Array.isArray(v) ? v.join(', ') : String(v);
    if (text !== '') lines.push(`  ${label}: ${text}`);
  }
  return `Persona:\n${lines.join('\n')}`;
}

function scaleLine(scale: ItemScale): string {
  return `Answer scale: ${scale.labels.map((l, i) => `${i + 1} = ${l}`).join(', ')}`;
}

/** The user turn: persona, domain, question, the scale for closed items, and the answer format. */
export function userPrompt(record: Pick<DatasetRecord, 'persona' | 'domain' | 'question_type' | 'question'>): string {
  return `${personaBlock(record.persona)}\n\n${questionBlock(record)}`;
}

/** The user turn after the persona block: domain, question, the scale for closed items, the answer format. */
export function questionBlock(record: Pick<DatasetRecord, 'domain' | 'question_type' | 'question'>): string {
  const parts = [`Domain: ${record.domain.replace(/_/g, ' ')}`, `Question: ${record.question.text}`];
  if (record.question.scale) parts.push(scaleLine(record.question.scale));
  parts.push(
    record.question_type === 'open'
      ? 'Answer in one to three sentences, in your own voice.'
      : record.question_type === 'yesno'
        ? 'Answer yes or no, then give a short reason.'
        : 'Pick one option from the scale, then give a short reason.',
  );
  return parts.join('\n');
}

/** The system + user turns; the assistant turn is the reference answer. */
export function promptMessages(record: Pick<DatasetRecord, 'persona' | 'domain' | 'question_type' | 'question'>, systemPrompt = DEFAULT_SYSTEM_PROMPT): ChatMessage[] {
  return [
    { role: 'system', content: systemPrompt },
    { role: 'user', content: userPrompt(record) },
  ];
}
