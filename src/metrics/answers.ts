/**
 * Extracting the answer a closed survey item asked for (a level on its scale) from free text.
 * Question types follow the question bank: `likert`, `agreement`, `yesno` are closed, `open` is not.
 *
 * Rules, in order (the first that finds something decides):
 *  1. yesno: the earliest yes-word (yes, yeah, yep, yup, absolutely, definitely, certainly,
 *     of course) or no-word (no, nope, not really, never) → level 2 (Yes) or 1 (No).
 *  2. likert/agreement: an explicit rating "N out of M" / "N/M" / "N of M" (the template
 *     teacher's "Agree (4 of 5).") with M = points and 1 <= N <= points.
 *  3. a rating verb phrase followed by a number within three words ("I'd rate it a 4",
 *     "I would say 3", "my answer is 2", "score: 5"), or a number that opens the answer
 *     ("4 - often"), with 1 <= N <= points. Scale descriptions ("on a scale of 1 to 5",
 *     "1 being never") are removed first so their numbers are not read as answers.
 *  4. the scale's labels (or the default labels of the type): the earliest label found as whole
 *     words, the longest one when several start at the same place ("strongly agree" before
 *     "agree"; "disagree" never matches "agree").
 */
import { isClosedType, type AnswerScale } from '../formats/survey-item.js';

export interface ExtractedAnswer {
  /** 1-based level on the scale. */
  level: number;
  points: number;
  /** Which rule found it. */
  via: 'yesno' | 'fraction' | 'number' | 'label';
}

const AGREEMENT_LABELS = ['Strongly disagree', 'Disagree', 'Neither agree nor disagree', 'Agree', 'Strongly agree'];
// Extra phrasings of the agreement levels (level index 0-based → phrases).
const AGREEMENT_SYNONYMS: Array<[number, string]> = [
  [0, 'completely disagree'], [0, 'totally disagree'], [0, 'strongly oppose'],
  [1, 'somewhat disagree'], [1, 'tend to disagree'], [1, 'mostly disagree'],
  [2, 'neutral'], [2, 'neither agree or disagree'], [2, 'undecided'],
  [3, 'somewhat agree'], [3, 'tend to agree'], [3, 'mostly agree'],
  [4, 'completely agree'], [4, 'totally agree'], [4, 'fully agree'], [4, 'wholeheartedly agree'],
];

/** The scale a record's item uses: its own when given, else the type's default (likert 5, agreement 5, yesno 2). */
export function defaultScale(type: string): AnswerScale | undefined {
  if (type === 'yesno') return { points: 2, labels: ['No', 'Yes'] };
  if (type === 'agreement') return { points: 5, labels: AGREEMENT_LABELS };
  if (type === 'likert') return { points: 5 };
  return undefined;
}

const YES = /\b(?:yes|yeah|yep|yup|absolutely|definitely|certainly|of course)\b/i;
const NO = /\b(?:no|nope|not really|never)\b/i;

function yesNo(text: string): ExtractedAnswer | null {
  const y = YES.exec(text);
  const n = NO.exec(text);
  if (!y && !n) return null;
  const yesFirst = y !== null && (n === null || y.index < n.index);
  return { level: yesFirst ? 2 : 1, points: 2, via: 'yesno' };
}

const SCALE_DESCRIPTIONS = [
  /\b(?:scale|range)\s+(?:of|from)\s+\d+\s*(?:-|–|to)\s*\d+/gi,
  /\bfrom\s+\d+\s*(?:-|–|to)\s*\d+/gi,
  /\b\d+\s*(?:being|=|means|is for)\b/gi,
];
const FRACTION = /\b(\d+)\s*(?:\/|out of|of)\s*(\d+)\b/i;
const RATING_PHRASE = /\b(?:rate|rating|rated|score|scored|give|giving|choose|chose|pick|select|answer|say|go with|put|mark)\b\W+(?:\w+\W+){0,3}?(\d+)(?!\d|[.,]\d|%)/i;
const LEADING_NUMBER = /^\s*(\d+)(?!\d|[.,]\d|%)(?:\s*[-–:.)]|\s*$)/;

function numeric(text: string, points: number): ExtractedAnswer | null {
  let cleaned = text;
  for (const re of SCALE_DESCRIPTIONS) cleaned = cleaned.replace(re, ' ');
  const frac = FRACTION.exec(cleaned);
  if (frac) {
    const n = Number(frac[1]);
    if (Number(frac[2]) === points && n >= 1 && n <= points) return { level: n, points, via: 'fraction' };
  }
  for (const re of [RATING_PHRASE, LEADING_NUMBER]) {
    const m = re.exec(cleaned);
    if (m) {
      const n = Number(m[1]);
      if (n >= 1 && n <= points) return { level: n, points, via: 'number' };
    }
  }
  return null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const phraseRegExps = new Map<string, RegExp>();

/** A whole-words, case-insensitive matcher for a label phrase (compiled once per phrase). */
function phraseRegExp(phrase: string): RegExp {
  let re = phraseRegExps.get(phrase);
  if (!re) {
    re = new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(phrase).replace(/\s+/g, '\\s+')}(?![\\p{L}\\p{N}])`, 'iu');
    if (phraseRegExps.size < 10_000) phraseRegExps.set(phrase, re);
  }
  return re;
}

function byLabel(text: string, phrases: ReadonlyArray<[number, string]>, points: number): ExtractedAnswer | null {
  let best: { index: number; length: number; level: number } | null = null;
  for (const [levelIndex, phrase] of phrases) {
    const re = phraseRegExp(phrase);
    const m = re.exec(text);
    if (!m) continue;
    if (best === null || m.index < best.index || (m.index === best.index && m[0].length > best.length)) {
      best = { index: m.index, length: m[0].length, level: levelIndex + 1 };
    }
  }
  return best ? { level: best.level, points, via: 'label' } : null;
}

/** The answer level in `text` for an item of `type` on `scale`, or null when none can be read. */
export function extractAnswer(text: string, type: string, scale?: AnswerScale): ExtractedAnswer | null {
  if (!isClosedType(type)) return null;
  const s = scale ?? defaultScale(type)!;
  if (type === 'yesno') {
    const yn = yesNo(text);
    if (yn) return yn;
    return s.labels ? byLabel(text, s.labels.map((l, i) => [i, l] as [number, string]), s.points) : null;
  }
  const num = numeric(text, s.points);
  if (num) return num;
  const labels = s.labels ?? (type === 'agreement' ? AGREEMENT_LABELS : undefined);
  if (!labels) return null;
  const phrases: Array<[number, string]> = labels.map((l, i) => [i, l]);
  if (type === 'agreement' && s.points === 5) phrases.push(...AGREEMENT_SYNONYMS);
  return byLabel(text, phrases, s.points);
}
