import { describe, expect, it } from 'vitest';
import { buildReport, runLabel, table2, table3, type ReportRun } from '../../src/report/report.js';

const runs: ReportRun[] = [
  { label: 'phi-2', overall: { bleu: 0.08, rouge1: 0.4, quality: 0.9 }, byDomain: { finance: { bleu: 0.1, rouge1: 0.45, quality: 0.8 }, health: { bleu: 0.05, rouge1: 0.3, quality: 1 } }, answerCharsByDomain: { finance: [10, 12], health: [30] } },
  { label: 'tinyllama', overall: { bleu: 0.09, rouge1: 0.42 }, byDomain: { finance: { bleu: 0.2, rouge1: 0.5, quality: 0.7 }, health: { bleu: 0.01 } }, answerCharsByDomain: {} },
];

describe('report', () => {
  it('labels rows by matrix value', () => {
    expect(runLabel('scores[model=phi-2]')).toBe('phi-2');
    expect(runLabel('scores[model=a,seed=2]')).toBe('a, 2');
    expect(runLabel('scores')).toBe('scores');
  });
  it('Table II: one row per run, nulls for missing metrics; paper rows on request', () => {
    const t = table2(runs, false);
    expect(t.rows[0]).toEqual(['phi-2', 0.08, 0.4, null, null, null, 0.9, null, null, null]);
    const p = table2(runs, true);
    expect(p.rows).toHaveLength(9);
    expect(p.rows[8]).toEqual(['PolyPersona (TinyLlama 1.1B) (paper)', 0.09, 0.421, 0.128, 0.239, 0.89, 0.873, 0.865, 0.901, 0.842]);
  });
  it('Table III: top model by BLEU per domain, with the paper columns on request', () => {
    expect(table3(runs, false).rows).toEqual([
      ['finance', 'tinyllama', 0.2, 0.5, 0.7],
      ['health', 'phi-2', 0.05, 0.3, 1],
    ]);
    expect(table3(runs, true).rows[0]).toEqual(['finance', 'tinyllama', 0.2, 0.5, 0.7, 'TinyLlama', 0.142, 0.458, 0.902]);
  });
  it('Table III names no model when the top BLEU is tied (e.g. all zero)', () => {
    const zero: ReportRun[] = [
      { label: 'a', overall: {}, byDomain: { finance: { bleu: 0, rouge1: 0.1 } }, answerCharsByDomain: {} },
      { label: 'b', overall: {}, byDomain: { finance: { bleu: 0, rouge1: 0.2 } }, answerCharsByDomain: {} },
    ];
    expect(table3(zero, false).rows).toEqual([['finance', 'tie (2 runs)', 0, null, null]]);
  });

  it('puts the paper rows into Figure 4 with compare_paper', () => {
    const f = buildReport(runs, { comparePaper: true, title: 'T' });
    expect(f['bleu-by-model.svg']).toContain('PolyPersona (TinyLlama 1.1B) (paper)');
    expect(f['bleu-by-model.svg']).toContain('paper (Table II)');
    expect(buildReport(runs, { comparePaper: false, title: 'T' })['bleu-by-model.svg']).not.toContain('(paper)');
  });

  it('compares a base and a fine-tuned run by id with paired intervals, written as comparison.json', () => {
    const rows = (shift: number) => Array.from({ length: 60 }, (_, i) => ({ id: `r${i}`, domain: 'finance', scores: { bleu: 0.1 + 0.001 * (i % 7) + shift, answer_match: (i + (shift > 0 ? 1 : 0)) % 3 === 0 ? 0 : 1 } }));
    const questions = (v: number) => ({ q1: { wasserstein: v, jsd: 0.1, variance_ratio: 0.5 }, q2: { wasserstein: v + 0.1, jsd: 0.2, variance_ratio: 0.7 } });
    const pair: ReportRun[] = [
      { label: 'base', stageId: 'scores_base', overall: { bleu: 0.1 }, byDomain: {}, answerCharsByDomain: {}, records: rows(0), distribution: { questions: questions(0.5) } },
      { label: 'tuned', stageId: 'scores_ft', overall: { bleu: 0.2 }, byDomain: {}, answerCharsByDomain: {}, records: rows(0.1).slice(5), distribution: { questions: questions(0.2) } },
    ];
    const f = buildReport(pair, { comparePaper: false, title: 'T', comparison: { base: 'scores_base', finetuned: 'scores_ft', samples: 500, confidence: 0.95, seed: 3 } });
    const entries = JSON.parse(f['comparison.json']!) as Array<Record<string, number | string>>;
    const bleu = entries.find((e) => e.metric === 'bleu')!;
    expect(Object.keys(bleu).sort()).toEqual(['base', 'ci_high', 'ci_low', 'delta', 'finetuned', 'metric', 'n', 'unit']);
    expect(bleu.n).toBe(55); // only ids in both runs
    expect(bleu.delta).toBeCloseTo(0.1, 12); // every pair differs by exactly 0.1
    expect(bleu.ci_low).toBeCloseTo(0.1, 12);
    expect(bleu.ci_high).toBeCloseTo(0.1, 12);
    const w = entries.find((e) => e.metric === 'wasserstein')!;
    expect(w).toMatchObject({ unit: 'question', n: 2 });
    expect(w.delta).toBeCloseTo(-0.3, 12);
    expect(f['comparison.md']).toContain('better');
    expect(f['report.md']).toContain('## Base vs fine-tuned');
    expect(f['comparison-ci.svg']).toContain('<circle');
    expect(buildReport(pair, { comparePaper: false, title: 'T', comparison: { base: 'scores_base', finetuned: 'scores_ft', samples: 500, confidence: 0.95, seed: 3 } })).toEqual(f);
  });

  it('builds all files deterministically', () => {
    const f = buildReport(runs, { comparePaper: false, title: 'T' });
    expect(Object.keys(f).sort()).toEqual([
      'answer-length-by-domain-phi-2.svg', 'bleu-by-model.svg', 'consistency.csv', 'consistency.md', 'consistency.tex', 'report.md',
      'table2.csv', 'table2.md', 'table2.tex', 'table3-runs.csv', 'table3-runs.md', 'table3-runs.tex', 'table3.csv', 'table3.md', 'table3.tex',
    ]);
    expect(buildReport(runs, { comparePaper: false, title: 'T' })).toEqual(f);
  });
});
