import { describe, expect, it } from 'vitest';
import { datasetReportMarkdown, domainChart, lengthChart, summarizeDataset, typeChart } from '../../src/survey/report.js';
import type { DatasetRecord } from '../../src/survey/record.js';

const rec = (id: string, domain: string, type: DatasetRecord['question_type'], persona: string, chars: number): DatasetRecord => ({
  id, domain, question_type: type, question: { id: 'q', text: 'Q?' }, persona: { id: persona }, reference: 'w'.repeat(chars), meta: { persona_id: persona },
});

describe('dataset report', () => {
  const records = [
    rec('1', 'finance', 'open', 'p1', 1), rec('2', 'finance', 'open', 'p1', 2), rec('3', 'finance', 'likert', 'p2', 3), rec('4', 'finance', 'yesno', 'p3', 10),
    rec('5', 'health', 'open', 'p1', 4), rec('6', 'health', 'agreement', 'p4', 6),
  ];
  const s = summarizeDataset(records);
  it('counts domains, types, persona reuse', () => {
    expect(s.domains).toEqual([{ domain: 'finance', count: 4 }, { domain: 'health', count: 2 }]);
    expect(s.types.map((t) => [t.type, t.count])).toEqual([['open', 3], ['likert', 1], ['yesno', 1], ['agreement', 1]]);
    expect(s.personas).toBe(4);
    expect(s.personaDomains).toEqual([{ domains: 1, personas: 3 }, { domains: 2, personas: 1 }]);
    expect(s.answersPerPersona).toEqual({ min: 1, mean: 1.5, max: 3 });
  });
  it('uses numpy-default (linear) quantiles of lengths in characters for the box plots (the paper counts characters)', () => {
    expect(summarizeDataset([rec('e', 'x', 'open', 'p', 0), { ...rec('u', 'x', 'open', 'p', 0), reference: 'two words😀' }]).lengths[0]).toMatchObject({ min: 0, max: 10 });
    // finance lengths 1, 2, 3, 10: numpy.percentile(..., [25, 50, 75]) = 1.75, 2.5, 4.75
    expect(s.lengths[0]).toEqual({ domain: 'finance', min: 1, q1: 1.75, median: 2.5, q3: 4.75, max: 10, mean: 4 });
    expect(s.lengths[1]).toMatchObject({ domain: 'health', min: 4, q1: 4.5, median: 5, q3: 5.5, max: 6 });
  });
  it('renders Markdown tables and well-formed SVG', () => {
    const md = datasetReportMarkdown(s);
    expect(md).toContain('| finance | 4 | 66.7% |');
    expect(md).toContain('| open | 3 | 50.0% |');
    expect(md).toContain('| finance | 1 | 1.8 | 2.5 | 4.8 | 10 | 4.0 |');
    for (const svg of [domainChart(s), typeChart(s), lengthChart(s)]) {
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trim().endsWith('</svg>')).toBe(true);
      expect((svg.match(/<rect/g) ?? []).length).toBeGreaterThan(1);
      expect(svg).not.toMatch(/NaN|undefined/);
    }
    expect(domainChart(summarizeDataset([rec('x', 'a<b', 'open', 'p', 1)]))).toContain('a&lt;b');
  });
});
