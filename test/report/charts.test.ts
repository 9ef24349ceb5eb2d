import { describe, expect, it } from 'vitest';
import { barChartSvg, boxPlotSvg, boxStats, intervalChartSvg, intervalColor, niceRange, niceScale, stepDecimals, valueLabel } from '../../src/report/charts.js';

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
  it('labels values with the precision the axis needs (no 0.001 over an axis ending at 0.0008)', () => {
    expect(niceScale(0.0008)).toEqual({ top: 0.0008, step: 0.0002 });
    expect(stepDecimals(0.0002)).toBe(4);
    expect(valueLabel(0.0008, 0.0002)).toBe('0.00080');
    expect(valueLabel(0.09, 0.02)).toBe('0.090');
    const svg = barChartSvg('BLEU', 'BLEU', [{ label: 'a', value: 0.0008 }, { label: 'b', value: 0.0006 }]);
    expect(svg).toContain('>0.00080<');
    expect(svg).toContain('>0.0008<'); // the top tick
    expect(svg).not.toContain('>0.001<');
  });
  it('makes room for long x labels and for the y title beside wide tick labels', () => {
    const left = (svg: string): number => Number(/<line x1="([\d.]+)" x2="700"/.exec(svg)![1]);
    const short = boxPlotSvg('len', 'characters', [{ label: 'a', values: [1] }, { label: 'b', values: [2] }]);
    const long = boxPlotSvg('len', 'characters', [{ label: 'consumer_preferences', values: [1] }, ...Array.from({ length: 9 }, (_, i) => ({ label: `d${i}`, values: [2] }))]);
    expect(left(long)).toBeGreaterThan(left(short));
    // the first rotated label, "consumer_preferences (n=1)" (26 characters), ends right of x = 4
    const slot = (700 - left(long)) / 10;
    expect(left(long) + slot / 2 - 26 * 11 * 0.6 * Math.cos((35 * Math.PI) / 180)).toBeGreaterThanOrEqual(4);
    // tick labels "0.00080"-wide push the axis right so the rotated title at x = 16 clears them
    const tiny = barChartSvg('BLEU', 'BLEU', [{ label: 'a', value: 0.00083 }]);
    expect(left(tiny)).toBeGreaterThanOrEqual(16 + 10 + 6 * 11 * 0.6);
  });
  it('draws intervals around zero', () => {
    expect(niceRange(-0.03, 0.11)).toEqual({ lo: -0.05, hi: 0.15, step: 0.05 });
    const svg = intervalChartSvg('d', 'Δ', [{ label: 'BLEU', value: 0.1, low: 0.08, high: 0.12 }, { label: 'RL', value: -0.01, low: -0.03, high: 0.01 }]);
    expect(svg.match(/<circle/g)).toHaveLength(2);
    expect(svg).toContain('#2e7d32'); // above zero
  });
  it('colours an interval by the metric direction, not by its sign', () => {
    expect(intervalColor({ label: 'BLEU', value: 0.1, low: 0.08, high: 0.12 })).toBe('#2e7d32');
    expect(intervalColor({ label: 'BLEU', value: -0.1, low: -0.12, high: -0.08 })).toBe('#c62828');
    expect(intervalColor({ label: 'dist', value: -0.5, low: -0.6, high: -0.4, lowerIsBetter: true })).toBe('#2e7d32');
    expect(intervalColor({ label: 'dist', value: 0.5, low: 0.4, high: 0.6, lowerIsBetter: true })).toBe('#c62828');
    expect(intervalColor({ label: 'dist', value: 0, low: -0.1, high: 0.1, lowerIsBetter: true })).toBe('#555');
    const svg = intervalChartSvg('d', 'Δ', [{ label: 'dist', value: -0.5, low: -0.6, high: -0.4, lowerIsBetter: true }]);
    expect(svg).toContain('#2e7d32');
    expect(svg).not.toContain('#c62828');
  });
});
