/**
 * A labelled set for testing `quality` as a classifier: real answers (label 1) and systematic
 * corruptions of them (label 0), each kind a failure the metric must catch:
 *
 *   non-answer      a hedge or refusal instead of an answer
 *   gibberish       the answer with the letters of every word shuffled (tiny models' near-words)
 *   prompt-echo     the prompt's "Question: …" line (and a fragment of the answer) echoed back
 *   off-format      closed items: the answer with its level removed (prose only), or a rating
 *                   off the item's scale
 *   other-question  the answer that the same source gave to a different question
 *   repetition      the answer's first words looped
 *
 * Used by the quality tests (on template-teacher answers) and by the benchmark on the public
 * replication's answers. Seeded: the same items and seed give the same set.
 */
import { Prng, deriveSeed } from '../../core/prng.js';
import { extractAnswer } from '../answers.js';
import { isClosedType, type AnswerScale } from '../../formats/survey-item.js';
import type { PredictionRecord } from '../../formats/predictions.js';
import { InternalError, unreachable } from '../../core/errors.js';

export const CORRUPTIONS = ['non-answer', 'gibberish', 'prompt-echo', 'off-format', 'other-question', 'repetition'] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

export interface LabelledItem {
  id: string;
  domain?: string;
  question_type: string;
  question: string;
  question_id: string;
  scale?: AnswerScale;
  reference: string;
  /** a real answer to this item (label 1) */
  answer: string;
}

const NON_ANSWERS = [
  'I am not sure about this one.',
  "I don't know.",
  'No comment.',
  "I'd rather not say.",
  'Hard to say, really.',
  'Not sure, it depends.',
  'I have no opinion on that.',
  'Prefer not to answer.',
];

function shuffleLetters(word: string, prng: Prng): string {
  const letters = [...word];
  if (letters.length < 3) return word;
  for (let k = 0; k < 4; k++) {
    const shuffled = prng.shuffle([...letters]).join('');
    if (shuffled !== word) return shuffled;
  }
  return [...letters].reverse().join('');
}

/** The closed answer without its level: sentences from which no level of the item can be read. */
function withoutLevel(item: LabelledItem): string | undefined {
  const sentences = item.answer.split(/(?<=[.!?])\s+/);
  const kept = sentences.filter((s) => !extractAnswer(s, item.question_type, item.scale));
  const text = kept.join(' ').trim();
  if (text === '' || extractAnswer(text, item.question_type, item.scale)) return undefined;
  return text;
}

/** The corrupted answer of `kind` for item i (undefined where the kind does not apply). */
export function corrupt(items: readonly LabelledItem[], i: number, kind: Corruption, seed: number): string | undefined {
  const item = items[i]!;
  const prng = new Prng(deriveSeed(seed, `${kind}\u0000${item.id}`));
  switch (kind) {
    case 'non-answer':
      return prng.pick(NON_ANSWERS);
    case 'gibberish':
      return item.answer.replace(/\p{L}+/gu, (w) => shuffleLetters(w, prng));
    case 'prompt-echo': {
      const head = item.answer.split(/\s+/).slice(0, 4).join(' ');
      return `Question: ${item.question}\n${head}`;
    }
    case 'off-format': {
      if (!isClosedType(item.question_type)) return undefined;
      const prose = withoutLevel(item);
      if (prose && prng.next() < 0.5) return prose;
      if (item.question_type === 'yesno') return prose;
      const points = item.scale?.points ?? 5;
      return `I would rate it a ${points + 2 + prng.int(4)}. ${prose ?? ''}`.trim();
    }
    case 'other-question': {
      const others = items.filter((o) => o.question_id !== item.question_id && o.question_type === item.question_type);
      const pool = others.length > 0 ? others : items.filter((o) => o.question_id !== item.question_id);
      return pool.length > 0 ? prng.pick(pool).answer : undefined;
    }
    case 'repetition': {
      const words = item.answer.split(/\s+/).slice(0, 4).join(' ');
      return Array.from({ length: 5 }, () => words).join(' ');
    }
    default: {
      return unreachable(kind);
    }
  }
}

/** The prediction records of one variant: the real answers (`good`) or one corruption kind. */
export function labelledPredictions(items: readonly LabelledItem[], variant: 'good' | Corruption, seed: number): Array<PredictionRecord & { reference: string }> {
  const out: Array<PredictionRecord & { reference: string }> = [];
  items.forEach((item, i) => {
    const prediction = variant === 'good' ? item.answer : corrupt(items, i, variant, seed);
    if (prediction === undefined) return;
    out.push({ id: item.id, domain: item.domain, question_type: item.question_type, question: item.question, question_id: item.question_id, scale: item.scale, reference: item.reference, prediction });
  });
  return out;
}

/** ROC AUC of scores for positives vs negatives (Mann–Whitney U / (n₊ n₋), ties count one half). */
export function rocAuc(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) throw new InternalError('rocAuc needs at least one positive and one negative score');
  const all = [...positives.map((v) => [v, 1] as const), ...negatives.map((v) => [v, 0] as const)].sort((a, b) => a[0] - b[0]);
  // average ranks over ties, then U = R₊ − n₊(n₊ + 1)/2
  let rankSum = 0;
  for (let k = 0; k < all.length; ) {
    let j = k;
    while (j + 1 < all.length && all[j + 1]![0] === all[k]![0]) j++;
    const rank = (k + j) / 2 + 1;
    for (let m = k; m <= j; m++) if (all[m]![1] === 1) rankSum += rank;
    k = j + 1;
  }
  const n1 = positives.length;
  return (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * negatives.length);
}
