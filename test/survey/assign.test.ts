import { describe, expect, it } from 'vitest';
import { assignPersonas, type QuotaPlan } from '../../src/survey/assign.js';
import { builtinBankDir, loadQuestionBank } from '../../src/survey/question-bank.js';
import { PAPER_DOMAIN_COUNTS, PAPER_TYPE_SHARES } from '../../src/survey/domains.js';
import { QUESTION_TYPES } from '../../src/formats/survey-item.js';
import { integerMatrix, largestRemainder } from '../../src/survey/quotas.js';

const bank = loadQuestionBank(builtinBankDir());
const paperPlan = (total: number): QuotaPlan => ({ total, domainWeights: PAPER_DOMAIN_COUNTS, typeWeights: PAPER_TYPE_SHARES, singleDomainShare: 0.714 });
const ids = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);

function tally<T extends string>(values: T[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

describe('largestRemainder', () => {
  it('sums exactly and follows Hamilton on a hand example', () => {
    expect(largestRemainder([1, 1, 1], 10)).toEqual([4, 3, 3]);
    // 7 seats, shares .45/.35/.2 -> quotas 3.15, 2.45, 1.4 -> floors 3,2,1 and the seat goes to the .45 remainder
    expect(largestRemainder([45, 35, 20], 7)).toEqual([3, 3, 1]);
    expect(largestRemainder([520, 416, 416, 400, 384, 368, 368, 264, 216, 216], 3568)).toEqual([520, 416, 416, 400, 384, 368, 368, 264, 216, 216]);
    for (const total of [1, 17, 100, 999]) expect(largestRemainder([3.3, 0, 2.2, 9.1], total).reduce((a, b) => a + b, 0)).toBe(total);
    expect(largestRemainder([3.3, 0, 2.2, 9.1], 50)[1]).toBe(0);
  });
});

describe('integerMatrix', () => {
  it('meets row and column sums exactly and respects zeros', () => {
    const allowed = [[true, true, false], [true, true, true], [false, true, true]];
    const m = integerMatrix([7, 11, 5], [6, 9, 8], allowed, { rows: ['a', 'b', 'c'], cols: ['x', 'y', 'z'] });
    expect(m.map((r) => r.reduce((a, b) => a + b, 0))).toEqual([7, 11, 5]);
    expect([0, 1, 2].map((c) => m.reduce((a, r) => a + r[c]!, 0))).toEqual([6, 9, 8]);
    expect(m[0]![2]).toBe(0);
    expect(m[2]![0]).toBe(0);
  });
  it('names the type that no domain can supply', () => {
    expect(() => integerMatrix([3], [2, 1], [[true, false]], { rows: ['a'], cols: ['open', 'likert'] })).toThrow(/1 "likert" records but no domain/);
  });
});

describe('assignPersonas with the paper quotas', () => {
  it('reproduces the paper counts exactly at 3,568 records and 433 personas', () => {
    const r = assignPersonas(ids(433), bank, paperPlan(3568), 11);
    expect(r.assignments).toHaveLength(3568);
    expect(tally(r.assignments.map((a) => a.domain))).toEqual(PAPER_DOMAIN_COUNTS);
    // 3568 × (42.7, 31.7, 18.3, 7.3)% = 1523.5, 1131.1, 652.9, 260.5 -> largest remainder
    expect(tally(r.assignments.map((a) => a.question_type))).toEqual({ open: 1524, likert: 1131, yesno: 653, agreement: 260 });
    const domainsPerPersona = new Map<string, Set<string>>();
    for (const a of r.assignments) (domainsPerPersona.get(a.persona_id) ?? domainsPerPersona.set(a.persona_id, new Set()).get(a.persona_id)!).add(a.domain);
    expect(domainsPerPersona.size).toBe(433);
    const single = [...domainsPerPersona.values()].filter((s) => s.size === 1).length;
    expect(single).toBe(Math.round(0.714 * 433)); // 309
    expect([...domainsPerPersona.values()].every((s) => s.size <= 2)).toBe(true);
    expect(new Set(r.assignments.map((a) => a.id)).size).toBe(3568);
    for (const a of r.assignments) expect(bank.byId.get(a.question_id)!.domain).toBe(a.domain);
    for (const a of r.assignments) expect(bank.byId.get(a.question_id)!.type).toBe(a.question_type);
  });

  it('scales to a small total with exact counts', () => {
    const r = assignPersonas(ids(12), bank, paperPlan(60), 3);
    const expectedDomains = largestRemainder(Object.values(PAPER_DOMAIN_COUNTS), 60);
    expect(Object.values(tally(r.assignments.map((a) => a.domain)))).toEqual(expectedDomains.filter((c) => c > 0));
    const t = tally(r.assignments.map((a) => a.question_type));
    const expectedTypes = largestRemainder(QUESTION_TYPES.map((q) => PAPER_TYPE_SHARES[q]), 60);
    QUESTION_TYPES.forEach((q, i) => expect(t[q] ?? 0).toBe(expectedTypes[i]));
    expect(new Set(r.assignments.map((a) => a.persona_id)).size).toBe(12);
    expect(r.singleDomainPersonas).toBe(9);
  });

  it('is a pure function of the seed', () => {
    const a = assignPersonas(ids(40), bank, paperPlan(120), 5);
    const b = assignPersonas(ids(40), bank, paperPlan(120), 5);
    const c = assignPersonas(ids(40), bank, paperPlan(120), 6);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a.assignments)).not.toBe(JSON.stringify(c.assignments));
  });

  it('honours overridden quotas', () => {
    const r = assignPersonas(ids(10), bank, { total: 50, domainWeights: { finance: 3, environment: 2 }, typeWeights: { open: 1, likert: 1, yesno: 0, agreement: 0 }, singleDomainShare: 1 }, 1);
    expect(tally(r.assignments.map((a) => a.domain))).toEqual({ finance: 30, environment: 20 });
    expect(tally(r.assignments.map((a) => a.question_type))).toEqual({ open: 25, likert: 25 });
    expect(r.multiDomainPersonas).toBe(0);
  });

  it('lets a few personas cover many domains, keeping the single-domain count', () => {
    const r = assignPersonas(ids(3), bank, paperPlan(9), 2);
    expect(r.assignments).toHaveLength(9);
    expect(new Set(r.assignments.map((a) => a.domain)).size).toBe(9);
    expect(r.singleDomainPersonas).toBe(2);
    const perPersona = tally(r.assignments.map((a) => a.persona_id));
    expect(Object.keys(perPersona)).toHaveLength(3);
  });

  it('rejects impossible plans with a clear message', () => {
    expect(() => assignPersonas(ids(10), bank, paperPlan(5), 1)).toThrow(/at least the number of personas/);
    expect(() => assignPersonas(ids(3), bank, { ...paperPlan(10), domainWeights: { astrology: 1 } }, 1)).toThrow(/no such domain/);
    expect(() => assignPersonas(ids(3), bank, { ...paperPlan(10), domainWeights: { lifestyle: 1 }, typeWeights: { open: 0, likert: 0, yesno: 0, agreement: 1 } }, 1)).toThrow(/"agreement" records but no domain/);
  });
});
