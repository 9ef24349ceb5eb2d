/**
 * `quality`: is the prediction a real answer to ITS question, in the form the item asked for?
 * The paper reports a "Survey Quality (Qual.)" without defining it; this project's definition
 * (docs/metrics.md) is a score in [0, 1] per record, the product
 *
 *   quality = form × completeness × wordness × repetition × relevance
 *
 *   form          0 when the text is not an answer at all, else 1:
 *                   - a non-answer: a hedge or refusal ("I am not sure about this one.", "no comment",
 *                     "I'd rather not say") with fewer than 3 content words beside it, and no readable level;
 *                   - prompt or chat-template material (<|im_start|>, "Question:", "Persona:" lines, …)
 *                     or the question's own text echoed back;
 *                   - closed items (likert, agreement, yesno): no answer level can be read (prose
 *                     without a level, a number off the scale, "yes" to a Likert item);
 *                   - open items: fewer than 3 words.
 *   completeness  0.5 when an answer of 8 or more words stops mid-sentence (no . ! ? … at the end), else 1
 *   wordness      share of alphabetic tokens that are English words (word list, contractions, or words
 *                 of the file's own references and questions), mapped 0.5 → 0 … 0.9 → 1 (linear, clamped);
 *                 1 for a closed answer with a level and no letters ("4")
 *   repetition    distinct word bigrams / bigrams (answers of 8+ words), mapped 0.3 → 0 … 0.7 → 1
 *   relevance     topics.ts: exp(T_own − max_q T_q) from a topic model of the file's references per
 *                 question; 1 where it cannot be judged (no question ids, one question, a closed answer
 *                 without content words); 0.5 for an open answer without any content word
 *
 * The mean over records is Table II's Qual.: 1 for a file of well-formed, on-topic answers.
 */
import { extractAnswer } from '../answers.js';
import { isClosedType, type AnswerScale } from '../../formats/survey-item.js';
import { pySplit } from '../python-text.js';
import { QuestionTopics } from './topics.js';
import { alphabeticTokens, contentStems, isEnglishWord } from './words.js';

export interface QualityInput {
  prediction: string;
  /** the record's question_type; a type other than likert, yesno, agreement counts as open */
  questionType: string;
  question?: string;
  scale?: AnswerScale;
}

export interface QualityParts {
  form: 0 | 1;
  /** why form is 0 */
  reason?: 'non-answer' | 'prompt-echo' | 'no-level' | 'too-short';
  completeness: number;
  wordness: number;
  repetition: number;
  relevance: number;
  quality: number;
}

// Chat-template and prompt material that a well-formed answer never contains.
const ECHO_MARKERS = /<\|im_start\|>|<\|im_end\|>|<\|assistant\|>|<\|user\|>|<\|system\|>|<\/?s>|\[\/?INST\]|(?:^|\n)\s*(?:persona|domain|question|answer scale|answer|system|user|assistant)\s*:/i;
const COMPLETE_ENDING = /[.!?…]["'”’)\]]*\s*$/u;
// Hedges and refusals. A match with little else around it is a non-answer.
const HEDGES = /\b(?:(?:i'?m|i am|am)\s+(?:not sure|unsure|uncertain)|not sure|unsure|(?:i\s+)?(?:don'?t|do not|dont)\s+know|no idea|no opinion|no comment|(?:i'?d|i would)\s+rather not(?:\s+(?:say|answer))?|rather not (?:say|answer)|prefer not to (?:say|answer)|(?:can'?t|cannot)\s+(?:say|answer|tell)|not applicable|n\/a|hard to say|difficult to say|it depends|no answer|nothing to say|skip this(?: one)?)\b/gi;

const normalize = (s: string): string => s.toLowerCase().replace(/\s+/g, ' ').trim();
const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

/** Context shared by the records of one file: the topic model and the file's own vocabulary. */
export class QualityContext {
  readonly topics: QuestionTopics;
  readonly vocabulary: ReadonlySet<string>;

  constructor(records: ReadonlyArray<{ reference: string; question?: string; question_id?: string }>) {
    // pools by question text first: some files' question ids are per record, not per item (the public replication's)
    this.topics = new QuestionTopics(records.map((r) => ({ key: r.question ?? r.question_id, reference: r.reference, question: r.question })));
    const vocabulary = new Set<string>();
    for (const r of records) {
      for (const t of alphabeticTokens(r.reference)) vocabulary.add(t);
      if (r.question) for (const t of alphabeticTokens(r.question)) vocabulary.add(t);
    }
    this.vocabulary = vocabulary;
  }

  /** Quality of record i's prediction within this file. */
  parts(i: number, input: QualityInput): QualityParts {
    return qualityParts(input, { relevance: (text) => this.topics.relevance(i, text), vocabulary: this.vocabulary });
  }
}

/** quality for one record; `context` adds relevance (needs the file) and the file's vocabulary. */
export function qualityParts(input: QualityInput, context: { relevance?: (text: string) => number | undefined; vocabulary?: ReadonlySet<string> } = {}): QualityParts {
  const text = input.prediction;
  const closed = isClosedType(input.questionType);
  const zero = (reason: QualityParts['reason']): QualityParts => ({ form: 0, reason, completeness: 0, wordness: 0, repetition: 0, relevance: 0, quality: 0 });
  const words = pySplit(text);
  if (ECHO_MARKERS.test(text)) return zero('prompt-echo');
  if (input.question) {
    const q = normalize(input.question);
    if (q.length >= 12 && normalize(text).includes(q)) return zero('prompt-echo');
  }
  const level = closed ? extractAnswer(text, input.questionType, input.scale) : null;
  if (!level) {
    const rest = text.replace(HEDGES, ' ');
    if (rest !== text && contentStems(rest).length < 3) return zero('non-answer');
  }
  if (closed && !level) return zero('no-level');
  if (!closed && words.length < 3) return zero('too-short');

  const completeness = words.length >= 8 && !COMPLETE_ENDING.test(text) ? 0.5 : 1;
  const tokens = alphabeticTokens(text);
  let wordness: number;
  if (tokens.length === 0) wordness = closed ? 1 : 0;
  else {
    let known = 0;
    for (const t of tokens) if (isEnglishWord(t, context.vocabulary)) known++;
    wordness = clamp01((known / tokens.length - 0.5) / 0.4);
  }
  let repetition = 1;
  if (words.length >= 8) {
    const bigrams = new Set<string>();
    for (let k = 1; k < words.length; k++) bigrams.add(`${words[k - 1]!.toLowerCase()} ${words[k]!.toLowerCase()}`);
    repetition = clamp01((bigrams.size / (words.length - 1) - 0.3) / 0.4);
  }
  let relevance = context.relevance?.(text);
  if (relevance === undefined) relevance = !closed && contentStems(text).length === 0 ? 0.5 : 1;
  return { form: 1, completeness, wordness, repetition, relevance, quality: completeness * wordness * repetition * relevance };
}
