import { describe, expect, it } from 'vitest';
import { baselineReport, baselineScores, closedRecords, personaBlindModel, type SplitRecord } from '../../src/report/baselines.js';
import { buildReport, type ReportRun } from '../../src/report/report.js';

const LIKERT = { points: 5, labels: ['Very low', 'Low', 'Middle', 'High', 'Very high'] };
const likert = (id: string, q: string, level: number): SplitRecord => ({ id, question_type: 'likert', question: { id: q, scale: LIKERT }, reference: `${LIKERT.labels[level - 1]} (${level} of 5). Because.` });
const yesno = (id: string, q: string, yes: boolean): SplitRecord => ({ id, question_type: 'yesno', question: { id: q, scale: { points: 2, labels: ['No', 'Yes'] } }, reference: `${yes ? 'Yes' : 'No'}. Because.` });

// Training: q1 answered 4,4,4,2 (majority 4, p(4) = 3/4, p(2) = 1/4); q2 Yes, Yes, No (majority Yes).
const TRAIN: SplitRecord[] = [
  likert('t1', 'q1', 4), likert('t2', 'q1', 4), likert('t3', 'q1', 2), likert('t4', 'q1', 4),
  yesno('t5', 'q2', true), yesno('t6', 'q2', true), yesno('t7', 'q2', false),
  { id: 't8', question_type: 'open', question: { id: 'q3' }, reference: 'Anything.' },
];

describe('answer_match baselines', () => {
  it('reads closed references as answer_match does and skips open items', () => {
    expect(closedRecords(TRAIN).map((r) => [r.id, r.level, r.points])).toEqual([
      ['t1', 4, 5], ['t2', 4, 5], ['t3', 2, 5], ['t4', 4, 5], ['t5', 2, 2], ['t6', 2, 2], ['t7', 1, 2],
    ]);
  });

  it('scores chance, the question majority and the question marginal per test record (counted by hand)', () => {
    const model = personaBlindModel(closedRecords(TRAIN));
    const [a, b, c, d] = closedRecords([likert('a', 'q1', 4), likert('b', 'q1', 2), yesno('c', 'q2', false), likert('d', 'q9', 4)]);
    expect(baselineScores(a!, model)).toEqual({ chance: 0.2, persona_blind_majority: 1, persona_blind_marginal: 0.75, fallback: false });
    expect(baselineScores(b!, model)).toEqual({ chance: 0.2, persona_blind_majority: 0, persona_blind_marginal: 0.25, fallback: false });
    expect(baselineScores(c!, model)).toEqual({ chance: 0.5, persona_blind_majority: 0, persona_blind_marginal: 1 / 3, fallback: false });
    // q9 never in training: all likert-5 training answers (4,4,2,4) stand in
    expect(baselineScores(d!, model)).toEqual({ chance: 0.2, persona_blind_majority: 1, persona_blind_marginal: 0.75, fallback: true });
  });

  it('breaks a majority tie towards the lowest level', () => {
    const model = personaBlindModel(closedRecords([likert('x', 'q', 5), likert('y', 'q', 3)]));
    const [lo, hi] = closedRecords([likert('a', 'q', 3), likert('b', 'q', 5)]);
    expect(baselineScores(lo!, model).persona_blind_majority).toBe(1);
    expect(baselineScores(hi!, model).persona_blind_majority).toBe(0);
  });

  it('compares on the units scored in both runs, overall and per type, with fine-tuned − row intervals', () => {
    const test = [likert('a', 'q1', 4), likert('b', 'q1', 2), yesno('c', 'q2', false), yesno('d', 'q2', true), likert('e', 'q1', 4)];
    const row = (id: string, m: number | undefined) => ({ id, scores: { answer_match: m } });
    const base = [row('a', 0), row('b', 0), row('c', 1), row('d', 0), row('e', 1)];
    const ft = [row('a', 1), row('b', 1), row('c', 1), row('d', 1)]; // e missing: not a unit
    const r = baselineReport(base, ft, TRAIN, test, { samples: 200, confidence: 0.95, seed: 1 })!;
    expect(r.train_closed).toBe(7);
    expect(r.fallbacks).toBe(0);
    expect(r.groups.map((g) => [g.group, g.n])).toEqual([['all', 4], ['likert', 2], ['yesno', 2]]);
    const all = Object.fromEntries(r.groups[0]!.rows.map((x) => [x.system, x]));
    expect(all.chance!.answer_match).toBeCloseTo((0.2 + 0.2 + 0.5 + 0.5) / 4, 12);
    expect(all.persona_blind_majority!.answer_match).toBeCloseTo((1 + 0 + 0 + 1) / 4, 12);
    expect(all.persona_blind_marginal!.answer_match).toBeCloseTo((0.75 + 0.25 + 1 / 3 + 2 / 3) / 4, 12);
    expect(all.base!.answer_match).toBeCloseTo(0.25, 12);
    expect(all.finetuned).toEqual({ system: 'finetuned', answer_match: 1 });
    // fine-tuned is 1 on every unit, so every difference is 1 − the row's per-unit value
    expect(all.chance!.delta_finetuned).toBeCloseTo(0.65, 12);
    expect(all.chance!.ci_low!).toBeLessThanOrEqual(all.chance!.delta_finetuned!);
    expect(all.chance!.ci_high!).toBeGreaterThanOrEqual(all.chance!.delta_finetuned!);
    const yn = Object.fromEntries(r.groups[2]!.rows.map((x) => [x.system, x.answer_match]));
    expect(yn).toMatchObject({ chance: 0.5, persona_blind_majority: 0.5, base: 0.5, finetuned: 1 });
    expect(baselineReport(base, [], TRAIN, test, { samples: 200, confidence: 0.95, seed: 1 })).toBeNull();
  });

  it('puts the baselines beside answer_match in comparison.json and writes baselines.json and its table', () => {
    const test = Array.from({ length: 20 }, (_, i) => likert(`r${i}`, 'q1', i % 2 === 0 ? 4 : 2));
    const recs = (m: (i: number) => number) => Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, domain: 'd', scores: { answer_match: m(i) } }));
    const pair: ReportRun[] = [
      { label: 'base', stageId: 'sb', overall: {}, byDomain: {}, answerCharsByDomain: {}, records: recs(() => 0) },
      { label: 'tuned', stageId: 'sf', overall: {}, byDomain: {}, answerCharsByDomain: {}, records: recs(() => 1) },
    ];
    const options = { comparePaper: false, title: 'T', comparison: { base: 'sb', finetuned: 'sf', samples: 300, confidence: 0.95, seed: 2 } };
    const f = buildReport(pair, { ...options, splits: { train: TRAIN, test } });
    const am = (JSON.parse(f['comparison.json']!) as Array<Record<string, unknown>>).find((e) => e.metric === 'answer_match')!;
    expect(am).toMatchObject({ base: 0, finetuned: 1, n: 20, persona_blind: 0.5 });
    expect(am.chance as number).toBeCloseTo(0.2, 12);
    const b = JSON.parse(f['baselines.json']!);
    expect(b).toMatchObject({ metric: 'answer_match', unit: 'record', train_closed: 7, fallbacks: 0 });
    expect(b.groups[0]).toMatchObject({ group: 'all', n: 20 });
    expect(f['baselines.md']).toContain("persona-blind: the question's majority answer in training");
    expect(f['report.md']).toContain('### answer_match against chance and a persona-blind answerer');
    // without the splits: no baselines, and comparison.json keeps its eight fields
    const plain = buildReport(pair, options);
    expect(plain['baselines.json']).toBeUndefined();
    expect(Object.keys((JSON.parse(plain['comparison.json']!) as Array<Record<string, unknown>>)[0]!).sort()).toEqual(['base', 'ci_high', 'ci_low', 'delta', 'finetuned', 'metric', 'n', 'unit']);
  });
});
