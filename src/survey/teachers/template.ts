import { Prng, deriveSeed } from '../../core/prng.js';
import type { QuestionItem } from '../question-bank.js';
import type { PersonaCard } from '../persona.js';
import { demographicAttitude, driverCitation } from './persona-effects.js';

/**
 * The template teacher: offline, deterministic, SYNTHETIC reference answers that follow the
 * persona's latent attitudes, so that the whole pipeline runs without a model and persona
 * consistency can be measured against a known ground truth. Not a model of real people.
 *
 * The attitude behind an item comes from the card in one of two documented ways (`conditioning`):
 *  - `demographics` (default): from ONE visible field of the card per attitude (age band,
 *    income, education or region, see persona-effects.ts), noise σ = 0.03: a model that reads
 *    the persona block can recover the answer, so persona consistency measures conditioning;
 *  - `attitudes`: the card's latent `attitudes` (a logistic of demographics, Big Five traits and
 *    noise the prompt never shows), noise σ = 0.12.
 * Closed items: x = attitude + N(0, σ) noise, flipped for reverse-scored items, clamped to
 * [0, 1]; level = 1 + floor(x · points) (capped at points). Yes/no is level 2 ("Yes") when x > 0.5.
 * Open items: one to three sentences picked from phrase lists by stance (attitude low / mixed /
 * high), each mentioning persona details (occupation, age, region, a value or an interest).
 * Closed answers start with the chosen label ("Agree (4 of 5). ...", "Yes. ...") so it can be parsed back.
 * With `citeDriver` (demographics only) a closed answer first names the card line its attitude
 * follows, as the persona block shows it: "Income: $25k-50k. Dissatisfied (2 of 5). ..." — the
 * teacher states what it reads before it answers, so a student can copy that line and then map
 * it onto the scale instead of doing the whole lookup in the one token that picks the level.
 */
export interface TemplateAnswer {
  text: string;
  /** Closed items: the chosen level (1-based) and its label. */
  level?: number;
  label?: string;
  /** The attitude value that drove the answer. */
  attitude: number;
}

const STANCE_OPEN: Record<'low' | 'mid' | 'high', string[]> = {
  high: [
    'As a {role} in the {region}, I feel quite positive about {construct}.',
    'Speaking as a {age}-year-old {role}, {construct} is something that mostly works well for me.',
    'When it comes to {construct}, things have gone well for me as a {role}.',
    'I care a lot about {construct}, and my life as a {role} in the {region} has only made that stronger.',
  ],
  mid: [
    'As a {role} in the {region}, my feelings about {construct} are mixed.',
    'At {age}, I would say {construct} is fine on some days and frustrating on others.',
    'Honestly, {construct} is a middle-of-the-road topic for me as a {role}.',
    'I can see both sides when it comes to {construct}, given my life as a {role}.',
  ],
  low: [
    'As a {role} in the {region}, I have mostly been let down when it comes to {construct}.',
    'Speaking as a {age}-year-old {role}, I do not feel good about {construct}.',
    'To be frank, {construct} is not something I feel positive about.',
    'When it comes to {construct}, things have often fallen short for me as a {role}.',
  ],
};

const DETAIL: string[] = [
  'Because I value {value}, that shapes how I see it.',
  'Spending my free time on {interest} gives me some perspective on it.',
  'It matters to me because {value} is one of the things I hold on to.',
  'Between daily life and {interest}, I notice how it plays out.',
];

const CLOSING: Record<'low' | 'mid' | 'high', string[]> = {
  high: ['I expect that to stay the same.', 'Overall, I am satisfied with where things are.', 'I would happily say so to anyone who asks.'],
  mid: ['It could go either way for me.', 'I am still making up my mind.', 'Some things would need to change before I felt strongly.'],
  low: ['I would like to see that change.', 'I do not expect it to improve soon.', 'That is a source of frustration for me.'],
};

const CLOSED_REASON: Record<'low' | 'mid' | 'high', string[]> = {
  high: ['As a {role} who values {value}, I feel good about {construct}.', 'In my experience in the {region}, {construct} has gone well.', 'At {age}, I am comfortable with where I stand on {construct}.'],
  mid: ['My experience of {construct} as a {role} has been mixed.', 'I have no strong feelings about {construct} either way.', 'At {age}, {construct} is neither great nor bad for me.'],
  low: ['As a {role}, {construct} has not worked out well for me.', 'In the {region}, I have seen {construct} fall short too often.', 'At {age}, I feel uneasy about {construct}.'],
};

/** The occupation as a noun for "As a ...": retired -> retiree. */
function roleOf(occupation: string): string {
  return { retired: 'retiree', unemployed: 'job seeker', student: 'student' }[occupation] ?? occupation;
}

function stanceOf(x: number): 'low' | 'mid' | 'high' {
  return x < 0.4 ? 'low' : x > 0.6 ? 'high' : 'mid';
}

function fill(template: string, persona: PersonaCard, item: QuestionItem, prng: Prng): string {
  const value = persona.values.length ? prng.pick(persona.values) : 'honesty';
  const interest = persona.interests.length ? prng.pick(persona.interests) : 'my hobbies';
  const construct = item.construct;
  const out = template
    .replaceAll('{role}', roleOf(persona.occupation))
    .replaceAll('{region}', persona.region)
    .replaceAll('{age}', String(persona.age))
    .replaceAll('{value}', value)
    .replaceAll('{interest}', interest)
    .replaceAll('{Construct}', construct.charAt(0).toUpperCase() + construct.slice(1))
    .replaceAll('{construct}', construct);
  return out.replace(/\ba ([aeiou])/gi, (m, v: string) => `${m[0] === 'A' ? 'An' : 'an'} ${v}`);
}

export type TemplateConditioning = 'demographics' | 'attitudes';

/** Standard deviation of the noise added to the attitude, per conditioning. */
export const TEMPLATE_NOISE: Record<TemplateConditioning, number> = { demographics: 0.03, attitudes: 0.12 };

/** The attitude value for an item, 0.5 when the card does not carry what the conditioning reads. */
export function attitudeFor(persona: PersonaCard, item: QuestionItem, conditioning: TemplateConditioning = 'demographics'): number {
  if (conditioning === 'demographics') return demographicAttitude(persona, item.attitude);
  const v = persona.attitudes?.[item.attitude];
  return typeof v === 'number' ? v : 0.5;
}

export interface TemplateOptions {
  /** Closed items open with the card line the answer follows (demographics conditioning only). */
  citeDriver?: boolean;
}

/** Seeded by (seed, record id): a record's answer never depends on the others. */
export function templateAnswer(persona: PersonaCard, item: QuestionItem, seed: number, recordId: string, conditioning: TemplateConditioning = 'demographics', options: TemplateOptions = {}): TemplateAnswer {
  const prng = new Prng(deriveSeed(seed, `template\u0000${recordId}`));
  const attitude = attitudeFor(persona, item, conditioning);
  let x = Math.min(1, Math.max(0, attitude + TEMPLATE_NOISE[conditioning] * prng.normal()));
  const stance = stanceOf(x);
  if (item.type === 'open') {
    const sentences = [fill(prng.pick(STANCE_OPEN[stance]), persona, item, prng)];
    const extra = prng.weighted([0.3, 0.4, 0.3]); // 0, 1 or 2 more sentences
    if (extra >= 1) sentences.push(fill(prng.pick(DETAIL), persona, item, prng));
    if (extra >= 2) sentences.push(prng.pick(CLOSING[stance]));
    return { text: sentences.join(' '), attitude };
  }
  const scale = item.scale!;
  if (scale.reverse_scored) x = 1 - x;
  const level = item.type === 'yesno' ? (x > 0.5 ? 2 : 1) : Math.min(scale.points, 1 + Math.floor(x * scale.points));
  const label = scale.labels[level - 1]!;
  const reason = fill(prng.pick(CLOSED_REASON[stance]), persona, item, prng);
  const head = item.type === 'yesno' ? `${label}.` : `${label} (${level} of ${scale.points}).`;
  const citation = options.citeDriver && conditioning === 'demographics' ? driverCitation(persona, item.attitude) : undefined;
  return { text: `${citation ? `${citation}. ` : ''}${head} ${reason}`, level, label, attitude };
}
