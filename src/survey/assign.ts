import { UserError } from '../core/errors.js';
import { Prng } from '../core/prng.js';
import { QUESTION_TYPES, type QuestionType } from '../formats/survey-item.js';
import type { QuestionBank, QuestionItem } from './question-bank.js';
import { integerMatrix, largestRemainder } from './quotas.js';

/** One line of assignments.jsonl: persona `persona_id` answers question `question_id`. */
export interface Assignment {
  id: string;
  persona_id: string;
  domain: string;
  question_id: string;
  question_type: QuestionType;
}

export interface QuotaPlan {
  /** Total records. */
  total: number;
  /** Relative weights per domain (e.g. the paper's counts); normalised here. */
  domainWeights: Record<string, number>;
  /** Relative weights per question type. */
  typeWeights: Record<QuestionType, number>;
  /** Share of personas answering in one domain only; the rest answer in two (more when few personas must cover many domains). */
  singleDomainShare: number;
}

export interface AssignmentResult {
  assignments: Assignment[];
  domainCounts: Record<string, number>;
  typeCounts: Record<QuestionType, number>;
  /** records per domain × type */
  matrix: Record<string, Record<QuestionType, number>>;
  singleDomainPersonas: number;
  multiDomainPersonas: number;
  /** Records where the persona meets a question it already answered (the bank ran short). */
  repeatedQuestions: number;
}

/**
 * Seeded, quota-exact assignment of personas to domains and questions.
 *  1. domain counts = largest remainder of total × domain weights;
 *  2. type counts likewise, then a domain × type matrix with those exact margins that is zero
 *     where a domain has no item of a type (quotas.integerMatrix);
 *  3. round(share × personas) personas get one domain, the rest two distinct domains; domain slots
 *     are apportioned to the domain counts, so every domain's persona load follows its size;
 *  4. each domain's records are split over its personas (a two-domain persona weighs half), at
 *     least one each; the domain's type multiset is shuffled and dealt over them;
 *  5. each record gets the least-used item of its domain and type that the persona has not met yet.
 * Every count in steps 1–3 is exact; all choices draw from `new Prng(seed)` substreams.
 */
export function assignPersonas(personaIds: readonly string[], bank: QuestionBank, plan: QuotaPlan, seed: number): AssignmentResult {
  const prng = new Prng(seed);
  const domains = Object.keys(plan.domainWeights).filter((d) => plan.domainWeights[d]! > 0);
  for (const d of domains) if (!bank.domains.includes(d)) throw new UserError('quotas', `quota names domain "${d}" but the question bank has no such domain (have: ${bank.domains.join(', ')})`);
  const N = personaIds.length, T = plan.total;
  if (N === 0) throw new UserError('quotas', 'no personas to assign');
  if (new Set(personaIds).size !== N) throw new UserError('quotas', 'persona ids are not unique');
  if (T < N) throw new UserError('quotas', `records (${T}) must be at least the number of personas (${N}): every persona answers at least once`);
  const domainCounts = largestRemainder(domains.map((d) => plan.domainWeights[d]!), T);
  const typeCounts = largestRemainder(QUESTION_TYPES.map((t) => plan.typeWeights[t] ?? 0), T);
  const allowed = domains.map((d) => QUESTION_TYPES.map((t) => bank.items.some((q) => q.domain === d && q.type === t)));
  const matrix = integerMatrix(domainCounts, typeCounts, allowed, { rows: domains, cols: QUESTION_TYPES });

  // Step 3: which personas answer in one domain, which in several, and where.
  const activeDomains = domains.filter((_, i) => domainCounts[i]! > 0);
  const nActive = activeDomains.length;
  const n1 = nActive < 2 ? N : Math.round(plan.singleDomainShare * N);
  const n2 = N - n1;
  // Persona-domain slots: one per single persona, two (or more, when few personas must cover many
  // domains) per multi-domain persona; every domain with records gets at least one.
  const slotsTotal = Math.max(n1 + 2 * n2, nActive);
  if (slotsTotal > T) throw new UserError('quotas', `records (${T}) too few for ${N} personas over ${nActive} domains: need at least ${slotsTotal}`);
  if (n2 === 0 && n1 < nActive) throw new UserError('quotas', `${N} single-domain personas cannot cover ${nActive} domains; lower single_domain_share or add personas`);
  const active = domainCounts.map((c) => (c > 0 ? 1 : 0));
  const extraSlots = largestRemainder(domainCounts, slotsTotal - nActive);
  const slots = active.map((a, d) => a + extraSlots[d]!);
  // singles_d = LR(slots_d, n1) never exceeds slots_d (its exact share is below it).
  const singleSlots = largestRemainder(slots, n1);
  const multiSlots = slots.map((s, d) => s - singleSlots[d]!);
  // A domain may hold at most n2 multi slots (one per multi-domain persona): trade the excess for
  // single slots of other domains.
  for (let d = 0; d < domains.length; d++) {
    while (multiSlots[d]! > n2) {
      const e = multiSlots.findIndex((m, i) => i !== d && singleSlots[i]! > 0 && m < n2);
      if (e < 0) throw new UserError('quotas', `domain "${domains[d]}" is too large a share for ${n2} multi-domain personas; set single_domain_share to 1 or add personas`);
      multiSlots[d]!--; singleSlots[d]!++;
      multiSlots[e]!++; singleSlots[e]!--;
    }
  }
  const order = prng.fork('persona-roles').shuffle([...personaIds]);
  const singles = order.slice(0, n1), multis = order.slice(n1);
  const cells = domains.map(() => [] as Array<{ persona: string; weight: number }>);
  let k = 0;
  singleSlots.forEach((c, d) => { for (let j = 0; j < c; j++) cells[d]!.push({ persona: singles[k++]!, weight: 1 }); });
  // Multi slots listed in domain order and dealt round-robin: slot i goes to multi persona i mod n2.
  // A domain's slots are consecutive and at most n2, so no persona gets a domain twice.
  const multiList: number[] = [];
  multiSlots.forEach((c, d) => { for (let j = 0; j < c; j++) multiList.push(d); });
  const domainsPerMulti = multis.map((_, j) => Math.floor((multiList.length - 1 - j) / Math.max(1, n2)) + 1);
  multiList.forEach((d, i) => cells[d]!.push({ persona: multis[i % n2]!, weight: 1 / domainsPerMulti[i % n2]! }));

  // Steps 4–5.
  const used = new Map<string, number>();
  const seen = new Set<string>();
  const assignments: Assignment[] = [];
  let repeatedQuestions = 0;
  domains.forEach((domain, d) => {
    const dCells = prng.fork(`cells-${domain}`).shuffle(cells[d]!);
    const D = domainCounts[d]!;
    if (dCells.length > D) throw new UserError('quotas', `domain "${domain}" has ${D} records but ${dCells.length} personas to place; raise records or lower count`);
    if (D === 0) return;
    const extra = largestRemainder(dCells.map((c) => c.weight), D - dCells.length);
    const types: QuestionType[] = [];
    QUESTION_TYPES.forEach((t, ti) => { for (let j = 0; j < matrix[d]![ti]!; j++) types.push(t); });
    prng.fork(`types-${domain}`).shuffle(types);
    const pick = prng.fork(`questions-${domain}`);
    let slot = 0, seq = 0;
    dCells.forEach((cell, ci) => {
      for (let j = 0; j < 1 + extra[ci]!; j++) {
        const type = types[slot++]!;
        const item = chooseItem(bank.items.filter((q) => q.domain === domain && q.type === type), cell.persona, used, seen, pick);
        if (seen.has(`${cell.persona}\u0000${item.id}`)) repeatedQuestions++;
        seen.add(`${cell.persona}\u0000${item.id}`);
        used.set(item.id, (used.get(item.id) ?? 0) + 1);
        seq++;
        assignments.push({ id: `${domain}-${String(seq).padStart(4, '0')}-${cell.persona}`, persona_id: cell.persona, domain, question_id: item.id, question_type: type });
      }
    });
  });
  const result: AssignmentResult = {
    assignments,
    domainCounts: Object.fromEntries(domains.map((d, i) => [d, domainCounts[i]!])),
    typeCounts: Object.fromEntries(QUESTION_TYPES.map((t, i) => [t, typeCounts[i]!])) as Record<QuestionType, number>,
    matrix: Object.fromEntries(domains.map((d, i) => [d, Object.fromEntries(QUESTION_TYPES.map((t, j) => [t, matrix[i]![j]!]))])) as AssignmentResult['matrix'],
    singleDomainPersonas: n1,
    multiDomainPersonas: n2,
    repeatedQuestions,
  };
  return result;
}

function chooseItem(candidates: QuestionItem[], persona: string, used: Map<string, number>, seen: Set<string>, prng: Prng): QuestionItem {
  const fresh = candidates.filter((q) => !seen.has(`${persona}\u0000${q.id}`));
  const pool = fresh.length > 0 ? fresh : candidates;
  const least = Math.min(...pool.map((q) => used.get(q.id) ?? 0));
  return prng.pick(pool.filter((q) => (used.get(q.id) ?? 0) === least));
}
