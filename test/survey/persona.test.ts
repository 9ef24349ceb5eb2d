import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { marginalTables, sampleSyntheticPersonas, tableTargets } from '../../src/survey/persona.js';
import { personaFromText, readTextCues } from '../../src/survey/persona-text.js';
import { packageRoot } from '../../src/core/paths.js';

function ageBand(age: number): string {
  for (const [hi, band] of [[24, '18-24'], [34, '25-34'], [44, '35-44'], [54, '45-54'], [64, '55-64'], [74, '65-74']] as const) if (age <= hi) return band;
  return '75-89';
}

const validateCard = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(join(packageRoot(), 'schemas', 'persona.schema.json'), 'utf8')) as object);

describe('synthetic persona cards', () => {
  it('are valid against the persona schema and deterministic per seed', () => {
    const a = sampleSyntheticPersonas(7, { count: 30 }).cards;
    for (const c of a) expect(validateCard(c), JSON.stringify(validateCard.errors)).toBe(true);
    expect(JSON.stringify(sampleSyntheticPersonas(7, { count: 30 }).cards)).toBe(JSON.stringify(a));
    expect(JSON.stringify(sampleSyntheticPersonas(8, { count: 30 }).cards)).not.toBe(JSON.stringify(a));
    expect(a[0]!.description).toMatch(new RegExp(`${a[0]!.age}-year-old`));
  });

  it('cite a source for every marginal table', () => {
    const t = marginalTables();
    for (const key of ['age_band', 'gender', 'education', 'income_bracket', 'region', 'occupation_group'] as const) {
      expect(t[key].source).toMatch(/\d{4}/);
      expect(Object.values(t[key].shares).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 6);
    }
  });

  it('latent attitudes follow their drivers (older personas: lower tech affinity, on average)', () => {
    const cards = sampleSyntheticPersonas(1, { count: 600 }).cards;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const young = cards.filter((c) => c.age < 35).map((c) => c.attitudes.tech_affinity);
    const old = cards.filter((c) => c.age >= 65).map((c) => c.attitudes.tech_affinity);
    expect(mean(young) - mean(old)).toBeGreaterThan(0.15);
  });

  it('raking to the tables brings the sample marginals to the targets', () => {
    const targets = tableTargets(['education', 'age_band']);
    const raw = sampleSyntheticPersonas(3, { count: 400 });
    const raked = sampleSyntheticPersonas(3, { count: 400, targets });
    expect(raked.raking!.converged).toBe(true);
    const err = (cards: typeof raw.cards, v: 'education' | 'age_band') => {
      let worst = 0;
      for (const [cat, share] of Object.entries(targets[v]!)) worst = Math.max(worst, Math.abs(cards.filter((c) => (v === 'education' ? c.education : ageBand(c.age)) === cat).length / cards.length - share));
      return worst;
    };
    // The joint model skews education for the young; PPS from the raked pool follows the targets.
    // age_band sorts first (implicit stratification): within one unit of its target shares.
    expect(err(raked.cards, 'education')).toBeLessThan(err(raw.cards, 'education'));
    expect(err(raked.cards, 'education')).toBeLessThan(0.03);
    expect(err(raked.cards, 'age_band')).toBeLessThanOrEqual(1 / 400 + 1e-9);
    expect(raked.cards).toHaveLength(400);
  });

  it('custom targets are enforced', () => {
    const r = sampleSyntheticPersonas(9, { count: 200, targets: { gender: { female: 0.8, male: 0.15, 'non-binary': 0.05 } } });
    const female = r.cards.filter((c) => c.gender === 'female').length;
    expect(Math.abs(female - 160)).toBeLessThanOrEqual(3);
  });
});

describe('cards from persona text', () => {
  it('read occupation, age and attitude cues and keep the text', () => {
    const text = 'A 67-year-old retired nurse who volunteers at the local food bank and worries about climate change.';
    const cues = readTextCues(text);
    expect(cues.age).toBe(67);
    expect(cues.occupation).toBe('retired');
    expect(cues.nudges.environmental_concern).toBeGreaterThan(0);
    const card = personaFromText(text, 'h1', 'personahub', 5);
    expect(card.description).toBe(text);
    expect(card.source_text).toBe(text);
    expect(card.age).toBe(67);
    expect(validateCard(card)).toBe(true);
    expect(JSON.stringify(personaFromText(text, 'h1', 'personahub', 5))).toBe(JSON.stringify(card));
  });
});
