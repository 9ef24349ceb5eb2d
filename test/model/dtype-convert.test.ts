import { describe, expect, it } from 'vitest';
import { floatToBf16, floatToHalf, fromFloat32 } from '../../src/model/dtype-convert.js';
import { halfToFloat, toFloat32 } from '../../src/model/tensor.js';

describe('float16 / bfloat16 conversion', () => {
  it('every finite half round-trips through float32 exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = halfToFloat(h);
      if (Number.isNaN(x)) continue;
      expect(floatToHalf(x)).toBe(h);
    }
  });

  it('rounds to nearest even, overflows to infinity, keeps NaN', () => {
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even (down)
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(floatToHalf(65520)).toBe(0x7c00);
    expect(floatToHalf(-1e9)).toBe(0xfc00);
    expect(Number.isNaN(halfToFloat(floatToHalf(Number.NaN)))).toBe(true);
    expect(floatToHalf(2 ** -25)).toBe(0); // exactly half the smallest subnormal: tie → 0
    expect(floatToHalf(2 ** -24)).toBe(1);
  });

  it('bf16 keeps the top bits with round to nearest even, matching the array path', () => {
    const xs = Float32Array.from([1, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.14159, 1e38, -1e-30, Number.POSITIVE_INFINITY]);
    const t = fromFloat32(xs, [xs.length], 'BF16');
    expect(Array.from(t.data as Uint16Array)).toEqual(Array.from(xs, (x) => floatToBf16(x)));
    expect(floatToBf16(1 + 2 ** -8)).toBe(0x3f80);
    expect(floatToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    const back = toFloat32(t);
    for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]!)) expect(Math.abs(back[i]! - xs[i]!)).toBeLessThanOrEqual(Math.abs(xs[i]!) * 2 ** -8);
  });
});
