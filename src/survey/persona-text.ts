import { Prng, deriveSeed } from '../core/prng.js';
import type { Attitude } from './domains.js';
import { buildCard, sampleDemographics, type Demographics, type PersonaCard } from './persona.js';

/**
 * Structured cards from free-text personas (PersonaHub lines, a user's descriptions). The text is
 * kept verbatim as the description; fields the text reveals (an occupation, "retired", "student",
 * an age) are read from it by keyword, the rest are sampled from the marginal tables with a PRNG
 * seeded by the stage seed and the text itself, so a given text always yields the same card.
 */

const OCCUPATION_WORDS: Array<[RegExp, string]> = [
  [/\bnurse\b/i, 'registered nurse'],
  [/\b(doctor|physician|surgeon)\b/i, 'physician'],
  [/\b(teacher|educator|professor|lecturer)\b/i, 'teacher'],
  [/\b(software|developer|programmer|engineer)\b/i, 'software engineer'],
  [/\b(data scientist|data analyst|statistician)\b/i, 'data analyst'],
  [/\b(lawyer|attorney)\b/i, 'lawyer'],
  [/\baccountant\b/i, 'accountant'],
  [/\b(farmer|rancher)\b/i, 'farmer'],
  [/\b(chef|cook)\b/i, 'cook'],
  [/\b(artist|painter|musician|writer|author|poet|journalist)\b/i, 'writer or artist'],
  [/\b(researcher|scientist|biologist|chemist|physicist)\b/i, 'research scientist'],
  [/\b(entrepreneur|business owner|founder)\b/i, 'small business owner'],
  [/\b(social worker|counselor|therapist|psychologist)\b/i, 'social worker'],
  [/\b(driver|trucker)\b/i, 'truck driver'],
  [/\b(mechanic|electrician|plumber|carpenter)\b/i, 'electrician'],
  [/\b(manager|executive|director)\b/i, 'project manager'],
];

const ATTITUDE_WORDS: Array<[RegExp, Attitude, number]> = [
  [/\b(environment\w*|climate|sustainab\w*|ecolog\w*|conservation\w*)\b/i, 'environmental_concern', 1.2],
  [/\b(tech\w*|software|digital|computer|AI|data|gadget\w*|coding)\b/i, 'tech_affinity', 1.0],
  [/\b(invest\w*|trader|stock\w*|crypto\w*|venture)\b/i, 'financial_risk_tolerance', 1.0],
  [/\b(budget\w*|saving\w*|frugal|finance\w*|accountant)\b/i, 'financial_security', 0.6],
  [/\b(health\w*|fitness|athlete|marathon|nutrition\w*|yoga)\b/i, 'health_status', 0.8],
  [/\b(student|learn\w*|education\w*|teacher|research\w*|academic)\b/i, 'education_engagement', 1.0],
  [/\b(activist|advocate|justice|equality|rights)\b/i, 'social_progressivism', 1.0],
  [/\b(volunteer\w*|community|neighbo\w*|church|local)\b/i, 'community_attachment', 0.8],
  [/\b(government|public servant|civil servant|official|policy)\b/i, 'institutional_trust', 0.5],
  [/\b(skeptic\w*|conspiracy|distrust\w*)\b/i, 'institutional_trust', -1.0],
  [/\b(passionate|enthusiast\w*|love\w*|enjoys?)\b/i, 'life_satisfaction', 0.4],
];

/** Occupation, age and attitude nudges that a persona text states outright. */
export function readTextCues(text: string): { occupation?: string; age?: number; nudges: Partial<Record<Attitude, number>> } {
  const nudges: Partial<Record<Attitude, number>> = {};
  for (const [re, attitude, delta] of ATTITUDE_WORDS) if (re.test(text)) nudges[attitude] = (nudges[attitude] ?? 0) + delta;
  let occupation: string | undefined;
  let age: number | undefined;
  if (/\bretired\b|\bretiree\b/i.test(text)) occupation = 'retired';
  else if (/\b(student|undergraduate|graduate student|phd candidate)\b/i.test(text)) occupation = 'student';
  else for (const [re, title] of OCCUPATION_WORDS) if (re.test(text)) { occupation = title; break; }
  const ageMatch = /\b(1[89]|[2-8]\d)[- ]year[- ]old\b/i.exec(text);
  if (ageMatch) age = Number(ageMatch[1]);
  return { occupation, age, nudges };
}

function ageBandOf(age: number): string {
  const bands: Array<[number, string]> = [[24, '18-24'], [34, '25-34'], [44, '35-44'], [54, '45-54'], [64, '55-64'], [74, '65-74']];
  for (const [hi, band] of bands) if (age <= hi) return band;
  return '75-89';
}

/** A card whose description is `text` itself. */
export function personaFromText(text: string, id: string, source: PersonaCard['source'], seed: number): PersonaCard {
  const prng = new Prng(deriveSeed(seed, `persona-text\u0000${text}`));
  const cues = readTextCues(text);
  const d: Demographics = sampleDemographics(prng.fork('demographics'));
  if (cues.age !== undefined) {
    d.age = cues.age;
    d.age_band = ageBandOf(cues.age);
  } else if (cues.occupation === 'retired' && d.age < 62) {
    d.age = 62 + prng.int(20);
    d.age_band = ageBandOf(d.age);
  } else if (cues.occupation === 'student' && d.age > 30) {
    d.age = 18 + prng.int(10);
    d.age_band = ageBandOf(d.age);
  }
  if (cues.occupation) d.occupation = cues.occupation;
  return buildCard(prng.fork('card'), id, source, d, { nudges: cues.nudges, sourceText: text, description: text.trim() });
}
