import { describe, expect, it } from 'vitest';
import { buildReport, runLabel, table2, table3, type ReportRun } from '../../src/report/report.js';

const runs: ReportRun[] = [
  { label: 'phi-2', overall: { bleu: 0.08, rouge1: 0.4, quality: 0.9 }, byDomain: { finance: { bleu: 0.1, rouge1: 0.45, quality: 0.8 }, health: { bleu: 0.05, rouge1: 0.3, quality: 1 } }, answerWordsByDomain: { finance: [10, 12], health: [30] } },
  { label: 'tinyllama', overall: { bleu: 0.09, rouge1: 0.42 }, byDomain: { finance: { bleu: 0.2, rouge1: 0.5, quality: 0.7 }, health: { bleu: 0.01 } }, answerWordsByDomain: {} },
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
  it('builds all files deterministically', () => {
    const f = buildReport(runs, { comparePaper: false, title: 'T' });
    expect(Object.keys(f).sort()).toEqual(['answer-length-by-domain-phi-2.svg', 'bleu-by-model.svg', 'report.md', 'table2.csv', 'table2.md', 'table2.tex', 'table3.csv', 'table3.md', 'table3.tex']);
    expect(buildReport(runs, { comparePaper: false, title: 'T' })).toEqual(f);
  });
});
