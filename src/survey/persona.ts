import { Prng } from '../core/prng.js';
import { readJsonAsset } from '../core/paths.js';
import { ATTITUDES, type Attitude } from './domains.js';
import { rake } from './raking.js';

/** Big Five traits in [0, 1] (0.5 = population average). */
export interface BigFive {
  openness: number;
  conscientiousness: number;
  extraversion: number;
  agreeableness: number;
  neuroticism: number;
}

/** A structured persona (schemas/persona.schema.json). Attitudes in [0, 1] drive template answers. */
export interface PersonaCard {
  id: string;
  source: 'synthetic' | 'personahub' | 'file';
  age: number;
  gender: string;
  occupation: string;
  education: string;
  region: string;
  income_bracket: string;
  values: string[];
  big_five: BigFive;
  interests: string[];
  description: string;
  attitudes: Record<Attitude, number>;
  /** The free text a card was derived from (PersonaHub, a user file). */
  source_text?: string;
}

interface ShareTable {
  source: string;
  shares: Record<string, number>;
}
export interface MarginalTables {
  note: string;
  age_band: ShareTable;
  gender: ShareTable;
  education: ShareTable;
  income_bracket: ShareTable;
  region: ShareTable;
  occupation_group: ShareTable & { titles: Record<string, string[]> };
  values: { source: string; items: string[] };
  interests: { source: string; items: string[] };
}

let tables: MarginalTables | undefined;
/** The shipped marginal tables (src/survey/data/marginals.json), with their sources. */
export function marginalTables(): MarginalTables {
  return (tables ??= readJsonAsset<MarginalTables>(import.meta.url, 'data/marginals.json'));
}

/** Variables that target marginals may constrain when raking. */
export const RAKEABLE = ['age_band', 'gender', 'education', 'income_bracket', 'region'] as const;
export type Rakeable = (typeof RAKEABLE)[number];

/** A sampled demographic profile before traits and attitudes. */
export interface Demographics {
  age_band: string;
  age: number;
  gender: string;
  education: string;
  income_bracket: string;
  region: string;
  occupation: string;
}

const EDUCATION_RANK = ['less than high school', 'high school', 'some college', 'associate degree', "bachelor's degree", 'graduate degree'];
const INCOME_RANK = ['under $25k', '$25k-50k', '$50k-75k', '$75k-100k', '$100k-150k', '$150k+'];

function pickShare(prng: Prng, shares: Record<string, number>, tilt?: (cat: string, i: number) => number): string {
  const cats = Object.keys(shares);
  return cats[prng.weighted(cats.map((c, i) => shares[c]! * (tilt ? tilt(c, i) : 1)))]!;
}

/**
 * One demographic profile. The joint is deliberately not independent (young adults are more
 * often students and hold fewer degrees; income follows education), which is why the sample's
 * marginals drift from the tables and raking exists.
 */
export function sampleDemographics(prng: Prng): Demographics {
  const t = marginalTables();
  const age_band = pickShare(prng, t.age_band.shares);
  const [lo, hi] = age_band.split('-').map(Number) as [number, number];
  const age = lo + prng.int(hi - lo + 1);
  const gender = pickShare(prng, t.gender.shares);
  const education = pickShare(prng, t.education.shares, (_c, i) => (age < 23 ? [1.2, 1.6, 2.2, 0.6, 0.3, 0.02][i]! : 1));
  const eduRank = EDUCATION_RANK.indexOf(education);
  const income_bracket = pickShare(prng, t.income_bracket.shares, (_c, i) => Math.exp(0.35 * (eduRank - 2.5) * (i - 2.5) / 2.5));
  const region = pickShare(prng, t.region.shares);
  let occupation: string;
  if (age < 23 && prng.next() < 0.55) occupation = 'student';
  else if (age >= 67 && prng.next() < 0.8) occupation = 'retired';
  else if (prng.next() < 0.05) occupation = 'unemployed';
  else {
    const group = pickShare(prng, t.occupation_group.shares, (c) => (c === 'management and professional' ? Math.exp(0.5 * (eduRank - 2.5)) : 1));
    occupation = prng.pick(t.occupation_group.titles[group]!);
  }
  return { age_band, age, gender, education, income_bracket, region, occupation };
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function sampleBigFive(prng: Prng): BigFive {
  const trait = (): number => round3(clamp01(0.5 + 0.18 * prng.normal()));
  return { openness: trait(), conscientiousness: trait(), extraversion: trait(), agreeableness: trait(), neuroticism: trait() };
}

/**
 * Latent attitudes from demographics and traits plus seeded noise: a logistic of a small linear
 * model per attitude. Coefficients are plausible signs, not estimates; `nudges` (from persona
 * text keywords) shift the logit.
 */
export function deriveAttitudes(prng: Prng, d: Pick<Demographics, 'age' | 'education' | 'income_bracket' | 'occupation'>, b: BigFive, nudges: Partial<Record<Attitude, number>> = {}): Record<Attitude, number> {
  const young = (45 - d.age) / 20;
  const edu = (Math.max(0, EDUCATION_RANK.indexOf(d.education)) - 2.5) / 2.5;
  const inc = (Math.max(0, INCOME_RANK.indexOf(d.income_bracket)) - 2.5) / 2.5;
  const o = 2 * (b.openness - 0.5), c = 2 * (b.conscientiousness - 0.5), e = 2 * (b.extraversion - 0.5);
  const a = 2 * (b.agreeableness - 0.5), n = 2 * (b.neuroticism - 0.5);
  const employed = !['student', 'retired', 'unemployed'].includes(d.occupation);
  const linear: Record<Attitude, number> = {
    environmental_concern: 0.4 * young + 0.4 * edu + 0.7 * o + 0.3 * a,
    institutional_trust: 0.3 * inc - 0.2 * young + 0.4 * a - 0.3 * n,
    tech_affinity: 0.9 * young + 0.4 * edu + 0.6 * o - 0.2 * n,
    financial_risk_tolerance: 0.5 * inc + 0.4 * young + 0.4 * o - 0.6 * n - 0.2 * c,
    financial_security: 1.1 * inc + 0.3 * edu + 0.3 * c - 0.3 * n,
    health_status: -0.8 * (d.age - 45) / 20 + 0.3 * inc + 0.3 * c - 0.4 * n + 0.2 * e,
    job_satisfaction: (employed ? 0.2 : -0.3) + 0.3 * inc + 0.3 * e + 0.3 * a - 0.5 * n,
    education_engagement: 0.7 * edu + 0.7 * o + 0.3 * c,
    consumer_satisfaction: 0.3 * inc + 0.4 * a - 0.3 * n - 0.2 * o,
    social_progressivism: 0.6 * young + 0.4 * edu + 0.7 * o + 0.2 * a,
    life_satisfaction: 0.4 * inc + 0.4 * e - 0.7 * n + 0.2 * c,
    community_attachment: -0.3 * young + 0.5 * a + 0.4 * e + 0.2 * c,
  };
  const out = {} as Record<Attitude, number>;
  for (const k of ATTITUDES) out[k] = round3(logistic(linear[k] + (nudges[k] ?? 0) + 0.6 * prng.normal()));
  return out;
}

/** "A 34-year-old female registered nurse from the South ..." — the card's one-paragraph description. */
export function describePersona(p: Omit<PersonaCard, 'description' | 'id' | 'source' | 'attitudes'>): string {
  const b = p.big_five;
  const traits: string[] = [];
  if (b.openness > 0.62) traits.push('curious');
  if (b.conscientiousness > 0.62) traits.push('organised');
  if (b.extraversion > 0.62) traits.push('outgoing');
  else if (b.extraversion < 0.38) traits.push('reserved');
  if (b.agreeableness > 0.62) traits.push('warm');
  if (b.neuroticism > 0.62) traits.push('prone to worry');
  else if (b.neuroticism < 0.38) traits.push('even-tempered');
  const job = p.occupation === 'retired' || p.occupation === 'unemployed' ? `${p.occupation} person` : p.occupation;
  const article = /^(8\d?|11|18)$/.test(String(p.age)) ? 'An' : 'A';
  const who = `${article} ${p.age}-year-old ${p.gender === 'non-binary' ? 'non-binary' : p.gender} ${job} from the ${p.region}`;
  const schooling = p.education.endsWith('degree') ? `${/^[aeiou]/.test(p.education) ? 'an' : 'a'} ${p.education}` : `${p.education} education`;
  const traitText = traits.length ? ` Tends to be ${traits.join(', ')}.` : '';
  return `${who} with ${schooling} and a household income of ${p.income_bracket}. Values ${p.values.join(' and ')}; enjoys ${p.interests.join(' and ')}.${traitText}`;
}

/** Completes a card from demographics: traits, values, interests, attitudes, description. */
export function buildCard(prng: Prng, id: string, source: PersonaCard['source'], d: Demographics, options: { nudges?: Partial<Record<Attitude, number>>; sourceText?: string; description?: string } = {}): PersonaCard {
  const t = marginalTables();
  const big_five = sampleBigFive(prng);
  const values = prng.shuffle([...t.values.items]).slice(0, 2).sort();
  const interests = prng.shuffle([...t.interests.items]).slice(0, 2).sort();
  const attitudes = deriveAttitudes(prng, d, big_five, options.nudges);
  const base = { age: d.age, gender: d.gender, occupation: d.occupation, education: d.education, region: d.region, income_bracket: d.income_bracket, values, big_five, interests };
  const card: PersonaCard = { id, source, ...base, description: options.description ?? describePersona(base), attitudes };
  if (options.sourceText !== undefined) card.source_text = options.sourceText;
  return card;
}

export interface SyntheticOptions {
  count: number;
  /** Target marginals to rake to; `true` = the shipped tables' shares for every rakeable variable. */
  targets?: Partial<Record<Rakeable, Record<string, number>>>;
  /** Candidate pool size as a multiple of count when raking (default 20). */
  poolFactor?: number;
}

export interface SyntheticResult {
  cards: PersonaCard[];
  raking?: { iterations: number; converged: boolean; maxError: number; poolSize: number };
}

/**
 * `count` synthetic cards. Without targets, each profile is drawn from the joint model above.
 * With targets, a pool of poolFactor × count profiles is drawn, raked to the targets, and `count`
 * profiles are chosen from it by systematic probability-proportional-to-weight sampling from a
 * seeded random start, so the chosen set follows the targets up to sampling granularity.
 */
export function sampleSyntheticPersonas(seed: number, options: SyntheticOptions): SyntheticResult {
  const prng = new Prng(seed);
  const demo = prng.fork('demographics');
  const idOf = (i: number): string => `p${String(i + 1).padStart(4, '0')}`;
  if (!options.targets || Object.keys(options.targets).length === 0) {
    const cards = Array.from({ length: options.count }, (_, i) => buildCard(prng.fork(`card-${i}`), idOf(i), 'synthetic', sampleDemographics(demo)));
    return { cards };
  }
  const poolSize = options.count * (options.poolFactor ?? 20);
  const pool = Array.from({ length: poolSize }, () => sampleDemographics(demo));
  const rows = pool.map((d) => d as unknown as Record<string, string>);
  const result = rake(rows, options.targets as Record<string, Record<string, number>>, { maxIterations: 500, tolerance: 1e-9 });
  // Implicit stratification: systematic sampling over the pool sorted by the targeted variables
  // (names sorted, stable sort) hits the first variable's shares to within one unit.
  const variables = Object.keys(options.targets).sort() as Rakeable[];
  const keyOf = (d: Demographics): string => variables.map((v) => d[v]).join('\u0000');
  const order = pool.map((_, i) => i).sort((a, b) => (keyOf(pool[a]!) < keyOf(pool[b]!) ? -1 : keyOf(pool[a]!) > keyOf(pool[b]!) ? 1 : a - b));
  const total = result.weights.reduce((a, b) => a + b, 0);
  const step = total / options.count;
  let next = prng.fork('systematic').next() * step;
  let acc = 0;
  const chosen: Demographics[] = [];
  for (const i of order) {
    if (chosen.length >= options.count) break;
    acc += result.weights[i]!;
    while (acc > next && chosen.length < options.count) {
      chosen.push(pool[i]!);
      next += step;
    }
  }
  while (chosen.length < options.count) chosen.push(pool[order[poolSize - 1]!]!); // float round-off at the very end
  const cards = chosen.map((d, i) => buildCard(prng.fork(`card-${i}`), idOf(i), 'synthetic', d));
  return { cards, raking: { iterations: result.iterations, converged: result.converged, maxError: result.maxError, poolSize } };
}

/** The shipped tables' shares for the named variables (the default raking targets). */
export function tableTargets(variables: readonly Rakeable[]): Partial<Record<Rakeable, Record<string, number>>> {
  const t = marginalTables();
  const out: Partial<Record<Rakeable, Record<string, number>>> = {};
  for (const v of variables) out[v] = { ...t[v].shares };
  return out;
}
