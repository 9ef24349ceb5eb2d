import { describe, expect, it } from 'vitest';
import { barChartSvg, boxPlotSvg, boxStats, niceScale } from '../../src/report/charts.js';

describe('charts', () => {
  it('box statistics use linear-interpolated quartiles (numpy default)', () => {
    // numpy.percentile([1,2,3,4,10], [25,50,75]) = 2, 3, 4
    expect(boxStats([10, 1, 3, 2, 4])).toEqual({ min: 1, q1: 2, median: 3, q3: 4, max: 10, n: 5 });
    // [1,2,3,4]: q1 = 1.75, median 2.5, q3 = 3.25
    expect(boxStats([4, 3, 2, 1])).toMatchObject({ q1: 1.75, median: 2.5, q3: 3.25 });
    expect(boxStats([])).toBeNull();
  });
  it('nice axis tops', () => {
    expect(niceScale(0.09)).toEqual({ top: 0.1, step: 0.02 });
    expect(niceScale(0)).toEqual({ top: 1, step: 0.2 });
    expect(niceScale(87)).toEqual({ top: 100, step: 20 });
  });
  it('renders escaped, deterministic SVG with one bar or box per entry', () => {
    const a = barChartSvg('BLEU', 'BLEU', [{ label: 'phi<2>', value: 0.087 }, { label: 'tiny', value: 0.09 }]);
    expect(a).toBe(barChartSvg('BLEU', 'BLEU', [{ label: 'phi<2>', value: 0.087 }, { label: 'tiny', value: 0.09 }]));
    expect(a).toContain('phi&lt;2&gt;');
    expect(a.match(/<rect x=/g)).toHaveLength(2);
    expect(a).toContain('>0.090<');
    const b = boxPlotSvg('len', 'words', [{ label: 'finance', values: [10, 20, 30] }, { label: 'empty', values: [] }]);
    expect(b).toContain('finance (n=3)');
    expect(b).toContain('empty (n=0)');
    expect(b.startsWith('<svg')).toBe(true);
  });
});
