import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.js';
import { InternalError } from '../../src/core/errors.js';
import { adamWMoments, addInto, clipAndUpdate, scaleAndNorm, type AdamWMoments } from '../../src/train/optimizer.js';
import { addIntoReference, clipAndUpdateReference, scaleAndNormReference } from '../../src/train/optimizer-reference.js';
import { CHUNK, wasmKernelsAvailable } from '../../src/train/optimizer-wasm.js';

/**
 * The WebAssembly kernels against the float64 JavaScript loops they replaced (optimizer-reference.ts):
 * every float32 they store must be the same bytes, NaN payloads included, and the norm the same float64.
 */
const bytesOf = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/**
 * Same bytes, except that a NaN may be another NaN: which NaN an operation on two NaNs returns is
 * left open by both WebAssembly (any arithmetic NaN) and V8's JavaScript tiers (operand order after
 * register allocation), so not even the reference loop fixes it. Every non-NaN result is compared
 * bit for bit, and NaN must stay NaN.
 */
const expectSameBytes = (got: Float32Array, want: Float32Array, what: string): void => {
  expect(got.length, what).toBe(want.length);
  if (bytesOf(got).equals(bytesOf(want))) return;
  const u = new Uint32Array(got.buffer, got.byteOffset, got.length), r = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < u.length; i++) {
    if (u[i] === r[i]) continue;
    if (Number.isNaN(got[i]) && Number.isNaN(want[i])) continue;
    expect.fail(`${what}: element ${i} of ${got.length} is 0x${u[i]!.toString(16)} (${got[i]}), the reference 0x${r[i]!.toString(16)} (${want[i]})`);
  }
};

/** The float32 with these bits. */
const f32bits = (bits: number): number => new Float32Array(Uint32Array.of(bits).buffer)[0]!;
const SPECIALS = [
  NaN, -NaN, f32bits(0x7fc00123), f32bits(0xffa00001) /* signalling, with a payload */, Infinity, -Infinity, 0, -0,
  f32bits(1) /* smallest denormal */, f32bits(0x807fffff) /* largest negative denormal */, f32bits(0x00800000) /* smallest normal */,
  3.4028234663852886e38, -3.4028234663852886e38, 1e-30, -1e-20, 65504,
];

/** Values over the whole float32 range (random sign, exponent and mantissa), with specials mixed in at rate `special`. */
function values(prng: Prng, n: number, special: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = prng.next();
    if (r < special) a[i] = prng.pick(SPECIALS);
    else if (r < 0.5) a[i] = (prng.next() - 0.5) * 2 ** (prng.int(40) - 20); // the usual gradient scales
    else a[i] = f32bits(prng.nextU32() & 0xff7fffff); // any finite float32 or denormal bit pattern
  }
  return a;
}

const SIZES = [0, 1, 2, 3, 4, 5, 7, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3];

describe('the optimizer\'s WebAssembly kernels', () => {
  it('run on this machine (Node ≥ 20 on x86-64 with SSE4.1 or arm64)', () => {
    expect(wasmKernelsAvailable()).toBe(true);
  });

  it('scaleAndNorm: the same scaled gradients and the same float64 norm as the float64 loop', () => {
    const prng = new Prng(11);
    for (const special of [0, 0.01, 0.3])
      for (const tokens of [1, 3, 7, 1000, 123457, 2 ** 25 + 1, 0.5]) {
        const sizes = [...SIZES.slice(0, 4 + prng.int(SIZES.length - 4))].reverse();
        const grads = sizes.map((n) => values(prng, n, special));
        const ref = grads.map((g) => g.slice());
        const norm = scaleAndNorm(grads, tokens);
        const refNorm = scaleAndNormReference(ref, tokens);
        expect(Object.is(norm, refNorm) || (Number.isNaN(norm) && Number.isNaN(refNorm)), `norm ${norm} vs ${refNorm}`).toBe(true);
        grads.forEach((g, i) => expectSameBytes(g, ref[i]!, `tokens ${tokens}, tensor ${i}`));
      }
  });

  it('the norm sums in element order across chunk and tensor boundaries (order changes the float64 sum)', () => {
    // Values whose float64 sum of squares depends on the order: one big, then many small.
    const g = Float32Array.from({ length: 3 * CHUNK + 1 }, (_, i) => (i === 0 ? 2 ** 26 : 1 + i / 4096));
    const ref = [g.slice(0, 5), g.slice(5)].map((x) => x.slice());
    const norm = scaleAndNorm([g.slice(0, 5), g.slice(5)], 1);
    expect(norm).toBe(scaleAndNormReference(ref, 1));
    // a different order gives a different sum here, so the test can tell
    expect(scaleAndNormReference([g.slice(5), g.slice(0, 5)], 1)).not.toBe(norm);
  });

  it('clipAndUpdate: the same params, moments and gradients bit for bit (clip or not, decay or not, t small and large, any size)', () => {
    const prng = new Prng(12);
    const cfgs = [
      { adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8, weight_decay: 0.01 },
      { adam_beta1: 0.8, adam_beta2: 0.95, adam_epsilon: 1e-6, weight_decay: 0.1 },
      { adam_beta1: 0, adam_beta2: 0, adam_epsilon: 0, weight_decay: 0 },
    ];
    for (const special of [0, 0.02, 0.5])
      for (const cfg of cfgs)
        for (const maxNorm of [0, 0.5, 1e30]) {
          const sizes = SIZES.filter(() => prng.next() < 0.6);
          const params = sizes.map((n) => values(prng, n, special));
          const grads = sizes.map((n) => values(prng, n, special));
          // Moments: zero (a fresh start), or any values (a resumed or diverged run: negative v included).
          const moments: AdamWMoments[] = sizes.map((n) => (prng.next() < 0.3 ? adamWMoments(n) : { m: values(prng, n, special), v: values(prng, n, special) }));
          const decay = sizes.map(() => prng.next() < 0.5);
          const copy = {
            params: params.map((p) => p.slice()),
            grads: grads.map((g) => g.slice()),
            moments: moments.map(({ m, v }) => ({ m: m.slice(), v: v.slice() })),
          };
          for (const t of [1, 2, 10, 400, 100_000]) {
            const norm = prng.pick([0.25, 1, 3, 1e6, NaN, Infinity]);
            const lr = prng.pick([0, 1e-4, 2e-5, 0.3]);
            clipAndUpdate(params, grads, moments, decay, norm, maxNorm, t, lr, cfg);
            clipAndUpdateReference(copy.params, copy.grads, copy.moments, decay, norm, maxNorm, t, lr, cfg);
            const what = `special ${special}, β ${cfg.adam_beta1}/${cfg.adam_beta2}, maxNorm ${maxNorm}, t ${t}, norm ${norm}, lr ${lr}`;
            for (let k = 0; k < sizes.length; k++) {
              expectSameBytes(params[k]!, copy.params[k]!, `${what}: param ${k} (${sizes[k]})`);
              expectSameBytes(moments[k]!.m, copy.moments[k]!.m, `${what}: m ${k}`);
              expectSameBytes(moments[k]!.v, copy.moments[k]!.v, `${what}: v ${k}`);
              expectSameBytes(grads[k]!, copy.grads[k]!, `${what}: grad ${k}`);
            }
          }
        }
  });

  it('clipAndUpdate: tensors that are views into larger buffers are updated only within their view', () => {
    const prng = new Prng(13);
    const cfg = { adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8, weight_decay: 0.01 };
    const n = CHUNK + 3;
    const make = (): Float32Array[] => [values(prng, n + 8, 0)];
    const [pb] = make(), [gb] = make(), [mb] = make(), [vb] = make();
    const view = (b: Float32Array): Float32Array => b.subarray(4, 4 + n);
    const ref = [pb, gb, mb, vb].map((b) => b!.slice());
    clipAndUpdate([view(pb!)], [view(gb!)], [{ m: view(mb!), v: view(vb!) }], [true], 5, 1, 3, 1e-3, cfg);
    clipAndUpdateReference([view(ref[0]!)], [view(ref[1]!)], [{ m: view(ref[2]!), v: view(ref[3]!) }], [true], 5, 1, 3, 1e-3, cfg);
    [pb, gb, mb, vb].forEach((b, i) => expectSameBytes(b!, ref[i]!, `buffer ${i}`));
  });

  it('addInto: the same float32 sums as f32(f64 + f64), specials included', () => {
    const prng = new Prng(14);
    for (const special of [0, 0.05, 0.5])
      for (const n of SIZES) {
        const acc = values(prng, n, special), x = values(prng, n, special);
        const ref = acc.slice();
        addInto(acc, x);
        addIntoReference(ref, x);
        expectSameBytes(acc, ref, `n ${n}, special ${special}`);
      }
    // Sums that round: the carry, ties to even, overflow to infinity, denormal results.
    const edge = Float32Array.from([1, 2 ** 24, 3.4028234663852886e38, f32bits(1), -f32bits(0x00800000), 0.1]);
    const add = Float32Array.from([2 ** -24, 1, 3.4028234663852886e38 / 2 ** 23, f32bits(2), f32bits(1), 0.2]);
    const ref = edge.slice();
    addInto(edge, add);
    addIntoReference(ref, add);
    expectSameBytes(edge, ref, 'edge sums');
    expect(edge[0]).toBe(1); // 1 + 2⁻²⁴ ties to even
  });

  it('refuse tensors whose lengths disagree (an InternalError, not a silent NaN)', () => {
    expect(() => addInto(new Float32Array(3), new Float32Array(2))).toThrow(InternalError);
    const cfg = { adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8, weight_decay: 0 };
    expect(() => clipAndUpdate([new Float32Array(4)], [new Float32Array(3)], [adamWMoments(4)], [false], 1, 0, 1, 1e-3, cfg)).toThrow(/tensor 0 has 4 elements but its gradient 3/);
  });
});
