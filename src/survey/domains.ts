/**
 * The paper's survey structure: ten domains, four question types, the published response counts
 * (Dash et al. 2025, §Data: 3,568 responses over 433 personas) and the latent attitudes that
 * persona cards carry and answers follow. The question types themselves are part of the record
 * formats: src/formats/survey-item.ts.
 */

import type { QuestionType } from '../formats/survey-item.js';

/** Domain ids as the paper's data builder spells them, in the paper's Figure 1 order. */
export const PAPER_DOMAINS = [
  'demographics',
  'healthcare',
  'education',
  'work_experience',
  'technology',
  'consumer_preferences',
  'finance',
  'social_issues',
  'environment',
  'lifestyle',
] as const;

/** Responses per domain in the paper's dataset (sum 3,568). */
export const PAPER_DOMAIN_COUNTS: Record<string, number> = {
  demographics: 520,
  healthcare: 416,
  education: 416,
  work_experience: 400,
  technology: 384,
  consumer_preferences: 368,
  finance: 368,
  social_issues: 264,
  environment: 216,
  lifestyle: 216,
};

/** Question-type shares in the paper's dataset (Figure 2), in percent. */
export const PAPER_TYPE_SHARES: Record<QuestionType, number> = { open: 42.7, likert: 31.7, yesno: 18.3, agreement: 7.3 };

export const PAPER_TOTAL_RESPONSES = 3568;
export const PAPER_PERSONAS = 433;
/** Share of personas that answer in exactly one domain (71.4%); the rest answer in two. */
export const PAPER_SINGLE_DOMAIN_SHARE = 0.714;

/** Latent attitudes in [0, 1] on every persona card; 1 = strongly holds the attitude. */
export const ATTITUDES = [
  'environmental_concern',
  'institutional_trust',
  'tech_affinity',
  'financial_risk_tolerance',
  'financial_security',
  'health_status',
  'job_satisfaction',
  'education_engagement',
  'consumer_satisfaction',
  'social_progressivism',
  'life_satisfaction',
  'community_attachment',
] as const;
export type Attitude = (typeof ATTITUDES)[number];

/** The attitude an item follows when it names none. Unknown (user) domains use life_satisfaction. */
export const DOMAIN_ATTITUDE: Record<string, Attitude> = {
  demographics: 'community_attachment',
  healthcare: 'health_status',
  education: 'education_engagement',
  work_experience: 'job_satisfaction',
  technology: 'tech_affinity',
  consumer_preferences: 'consumer_satisfaction',
  finance: 'financial_security',
  social_issues: 'social_progressivism',
  environment: 'environmental_concern',
  lifestyle: 'life_satisfaction',
};

export function domainAttitude(domain: string): Attitude {
  return DOMAIN_ATTITUDE[domain] ?? 'life_satisfaction';
}

/** "work_experience" -> "work experience". */
export function domainLabel(domain: string): string {
  return domain.replace(/_/g, ' ');
}
