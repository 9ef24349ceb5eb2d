import { describe, expect, it } from 'vitest';
import { lossCurveSvg, stepTicks } from '../../src/train/loss-curve.js';

describe('loss curve', () => {
  it('puts whole, evenly spaced step ticks from 0 to at most the last step', () => {
    expect(stepTicks(354)).toEqual([0, 100, 200, 300]);
    expect(stepTicks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(stepTicks(12)).toEqual([0, 5, 10]); // niceScale's 2.5 doubled: no half steps
    expect(stepTicks(3)).toEqual([0, 1, 2, 3]);
    expect(stepTicks(1)).toEqual([0, 1]);
  });

  it('draws the x ticks with their labels under the axis, and the y ticks', () => {
    const history = Array.from({ length: 354 }, (_, i) => ({ step: i + 1, loss: 1 / (i + 1), epoch: 0, learning_rate: 1e-3 }));
    const svg = lossCurveSvg([...history, { step: 354, eval_loss: 0.5, epoch: 2 }]);
    // axis at y = 360 − 40 = 320; x(s) = 56 + 568 · s / 354
    for (const s of [0, 100, 200, 300]) {
      const x = (56 + (568 * s) / 354).toFixed(1);
      expect(svg).toContain(`<line x1="${x}" y1="320" x2="${x}" y2="324" stroke="#333"/>`);
      expect(svg).toContain(`<text x="${x}" y="335" text-anchor="middle">${s}</text>`);
    }
    expect(svg).toContain('optimizer step (of 354)');
    expect(svg.match(/<line x1="52"/g)).toHaveLength(5);
  });
});
