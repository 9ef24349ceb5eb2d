import { describe, expect, it } from 'vitest';
import { bertScore, greedyMatch, idfWeights, type EncodedText } from '../../../src/metrics/bertscore/score.js';
import { InternalError } from '../../../src/core/errors.js';

const CLS = 0;
const SEP = 1;
const specialIds = new Set([CLS, SEP]);

/** A text whose tokens have the given 2-D embeddings; CLS/SEP point away from every test vector, so they never win a max. */
function text(ids: number[], vecs: Array<[number, number]>): EncodedText {
  const all: Array<[number, number]> = [[-1, -1], ...vecs, [-1, -2]];
  return { ids: [CLS, ...ids, SEP], embeddings: Float64Array.from(all.flat()), dim: 2 };
}

const near = (a: number, b: number): void => expect(Math.abs(a - b)).toBeLessThan(1e-12);

describe('BERTScore arithmetic on fixed embeddings', () => {
  it('greedy matching by hand (norms removed, special tokens ignored)', () => {
    // cand tokens: a=(1,0), b=(0,2) ; ref tokens: c=(3,3) (unit (1,1)/√2), d=(1,0)
    const cand = text([10, 11], [[1, 0], [0, 2]]);
    const ref = text([12, 13], [[3, 3], [1, 0]]);
    const s = bertScore([cand], [ref], { specialIds })[0]!;
    // cos(a,c)=1/√2, cos(a,d)=1, cos(b,c)=1/√2, cos(b,d)=0
    const P = (1 + Math.SQRT1_2) / 2; // a -> d (1), b -> c (1/√2)
    const R = (Math.SQRT1_2 + 1) / 2; // c -> a or b (1/√2), d -> a (1)
    near(s.precision, P);
    near(s.recall, R);
    near(s.f1, (2 * P * R) / (P + R));
  });

  it('idf = log((M+1)/(df+1)) over references; special tokens weigh 0', () => {
    const refs = [[CLS, 5, 6, SEP], [CLS, 5, 7, 7, SEP]];
    const idf = idfWeights(refs);
    near(idf.weight(5), Math.log(3 / 3));
    near(idf.weight(6), Math.log(3 / 2));
    near(idf.weight(7), Math.log(3 / 2)); // counted once per reference
    near(idf.weight(99), Math.log(3));
  });

  it('idf-weighted precision and recall by hand', () => {
    // refs share token 20 (idf log(3/3) = 0); token 21 and 22 have idf log(3/2)
    const r1 = text([20, 21], [[1, 0], [0, 1]]);
    const r2 = text([20, 22], [[1, 0], [1, 1]]);
    const c1 = text([20, 22], [[1, 0], [1, 1]]); // candidate 1 has tokens 20 and 22
    const c2 = text([21], [[0, 1]]);
    const [s1, s2] = bertScore([c1, c2], [r1, r2], { specialIds, idf: true });
    // pair 1: cand weights [0, log1.5] -> only token 22=(1,1): best match vs r1 tokens (1,0),(0,1): 1/√2
    near(s1!.precision, Math.SQRT1_2);
    // ref weights [0, log1.5] -> only token 21=(0,1): best vs cand (1,0),(1,1): 1/√2
    near(s1!.recall, Math.SQRT1_2);
    // pair 2: cand token 21 (0,1) vs r2 (1,0),(1,1): 1/√2; ref token 22 (1,1) vs cand (0,1): 1/√2
    near(s2!.f1, Math.SQRT1_2);
  });

  it('baseline rescaling (x - b) / (1 - b)', () => {
    const t = text([10], [[1, 0]]);
    const [s] = bertScore([t], [t], { specialIds, baseline: [0.8, 0.5, 0.6] });
    near(s!.precision, 1);
    const u = text([10], [[1, 1]]);
    const [v] = bertScore([t], [u], { specialIds, baseline: [0.8, 0.5, 0.6] });
    near(v!.precision, (Math.SQRT1_2 - 0.8) / 0.2);
    near(v!.recall, (Math.SQRT1_2 - 0.5) / 0.5);
    near(v!.f1, (Math.SQRT1_2 - 0.6) / 0.4);
  });

  it('empty texts score 0, not NaN; mismatched sizes throw', () => {
    const empty = text([], []);
    const t = text([10], [[1, 0]]);
    expect(bertScore([empty], [t], { specialIds })[0]).toEqual({ precision: 0, recall: 0, f1: 0 });
    expect(bertScore([t], [empty], { specialIds })[0]).toEqual({ precision: 0, recall: 0, f1: 0 });
    const three: EncodedText = { ids: [10], embeddings: new Float64Array(3), dim: 3 };
    expect(() => greedyMatch(t, three, [1, 1, 1], [1])).toThrow(InternalError);
    expect(() => bertScore([t], [], { specialIds })).toThrow(InternalError);
  });
});
