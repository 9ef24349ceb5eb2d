import type { Attitude } from '../domains.js';
import type { PersonaCard } from '../persona.js';
import { unreachable } from '../../core/errors.js';

/**
 * How the template teacher's answers depend on what a persona card shows (its `demographics`
 * conditioning, the default): every attitude is driven by ONE visible field of the card, read on
 * an ordinal ladder, so that a model which reads the persona block can in principle recover the
 * answer, and persona-consistency metrics (answer_match, Wasserstein, variance ratio against the
 * teacher) measure whether it learned to. The directions are plausible, not estimates; the
 * answers are synthetic and say so (`meta.synthetic`).
 *
 *   driver      card field        levels (low → high attitude)                   attitudes
 *   youth       age (band)        75-89, 65-74, 55-64, 45-54, 35-44, 25-34, 18-24  tech_affinity, health_status, social_progressivism
 *   seniority   age (band)        the same bands, reversed                        community_attachment
 *   income      income_bracket    under $25k … $150k+                             financial_security, financial_risk_tolerance,
 *                                                                                 consumer_satisfaction, life_satisfaction, job_satisfaction
 *   education   education         less than high school … graduate degree         education_engagement, institutional_trust
 *   region      region            South, Midwest, Northeast, West                 environmental_concern
 *
 * A driver level becomes an attitude value on the LADDER below: six values (the seven age bands
 * map onto them with the two oldest sharing the bottom one), four of them for regions. The ladder
 * keeps every value at least 0.05 away from the level boundaries of 5-point (0.2, 0.4, …),
 * 4-point (0.25, 0.5, 0.75) and yes/no (0.5) scales, so with the teacher's noise (σ = 0.03) about
 * 95 % of closed answers are the ladder's level and the rest its neighbour. A card without the
 * field gives 0.5.
 */
export type Driver = 'youth' | 'seniority' | 'income' | 'education' | 'region';

export const ATTITUDE_DRIVERS: Record<Attitude, Driver> = {
  tech_affinity: 'youth',
  health_status: 'youth',
  social_progressivism: 'youth',
  community_attachment: 'seniority',
  financial_security: 'income',
  financial_risk_tolerance: 'income',
  consumer_satisfaction: 'income',
  life_satisfaction: 'income',
  job_satisfaction: 'income',
  education_engagement: 'education',
  institutional_trust: 'education',
  environmental_concern: 'region',
};

/** Attitude values of the six ordinal levels (low → high). */
export const LADDER = [0.1, 0.3, 0.45, 0.55, 0.7, 0.9] as const;
/** Regions low → high environmental concern, on LADDER positions 0, 1, 4, 5. */
const REGION_VALUES: Record<string, number> = { South: LADDER[0], Midwest: LADDER[1], Northeast: LADDER[4], West: LADDER[5] };
const INCOME_ORDER = ['under $25k', '$25k-50k', '$50k-75k', '$75k-100k', '$100k-150k', '$150k+'];
const EDUCATION_ORDER = ['less than high school', 'high school', 'some college', 'associate degree', "bachelor's degree", 'graduate degree'];
/** Upper ages of the census bands, oldest first, on LADDER positions 0, 0, 1, 2, 3, 4, 5. */
const AGE_BANDS_OLD_FIRST: Array<[minAge: number, ladder: number]> = [[75, 0], [65, 0], [55, 1], [45, 2], [35, 3], [25, 4], [0, 5]];

/** Ladder position 0…5 of a persona's age for the youth driver (older = lower). */
function youthPosition(age: number): number {
  for (const [min, pos] of AGE_BANDS_OLD_FIRST) if (age >= min) return pos;
  return 5;
}

/** The card line (as the ChatML persona block writes it, src/survey/record.ts) each driver reads. */
const DRIVER_FIELDS: Record<Driver, [key: 'age' | 'income_bracket' | 'education' | 'region', label: string]> = {
  youth: ['age', 'Age'],
  seniority: ['age', 'Age'],
  income: ['income_bracket', 'Income'],
  education: ['education', 'Education'],
  region: ['region', 'Region'],
};

/**
 * The card line an attitude's answer follows, worded as the persona block shows it
 * ("Income: $25k-50k", "Age: 57"), or undefined when the card lacks the field. The template
 * teacher's `cite_driver` opens closed answers with it.
 */
export function driverCitation(persona: Partial<PersonaCard>, attitude: Attitude): string | undefined {
  const [key, label] = DRIVER_FIELDS[ATTITUDE_DRIVERS[attitude]];
  const v = persona[key];
  return v === undefined || v === null || v === '' ? undefined : `${label}: ${String(v)}`;
}

/** The attitude value [0, 1] the card's visible fields give, before the teacher's noise. */
export function demographicAttitude(persona: Partial<PersonaCard>, attitude: Attitude): number {
  const driver = ATTITUDE_DRIVERS[attitude];
  switch (driver) {
    case 'youth':
    case 'seniority': {
      if (typeof persona.age !== 'number' || !Number.isFinite(persona.age)) return 0.5;
      const pos = youthPosition(persona.age);
      return LADDER[driver === 'youth' ? pos : 5 - pos]!;
    }
    case 'income': {
      const i = INCOME_ORDER.indexOf(String(persona.income_bracket));
      return i < 0 ? 0.5 : LADDER[i]!;
    }
    case 'education': {
      const i = EDUCATION_ORDER.indexOf(String(persona.education));
      return i < 0 ? 0.5 : LADDER[i]!;
    }
    case 'region':
      return REGION_VALUES[String(persona.region)] ?? 0.5;
    default: {
      return unreachable(driver);
    }
  }
}
