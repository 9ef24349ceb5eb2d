import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/core/prng.js';
import { LexicalPass } from '../../src/metrics/lexical-pass.js';
import { NgramMatcher } from '../../src/metrics/ngram-matcher.js';
import { bleu } from '../../src/metrics/bleu.js';
import { rougeScores } from '../../src/metrics/rouge.js';
import { segmentStats } from '../../src/metrics/sacrebleu.js';
import { DistinctCounter, recordDistinctN } from '../../src/metrics/distinct.js';
import { pySplit, pySplitRegex } from '../../src/metrics/python-text.js';
import { TokenInterner, clippedMatchesUpTo } from '../../src/metrics/ngrams.js';
import { polarityScores } from '../../src/metrics/sentiment/vader.js';

// Pieces chosen to hit every tokenizer rule: case, stemming, 13a punctuation/period/dash/entity
// rules, digits around '.'/',', '-\n' joins, line breaks, Python-only whitespace, final sigma.
const PIECES = [
  'GOOD', 'good', 'bad', 'not', "isn't", 'never', 'so', 'no', 'but', 'least', 'very', 'kind', 'of', 'yeah', 'right', 'happy!', 'sad?', ':)',
  'the', 'The', 'THE', 'running', 'runs', 'ran', 'happiness', 'agreed', 'agree', 'caresses', 'ponies',
  'a', 'I', 'x', '3.14', '1,000', '5-4', 'e.g.', 'U.S.', 'end.', 'comma,', '(paren)', '"quote"', "it's",
  '&amp;', '&quot;hi&quot;', '&lt;b&gt;', '<skipped>', 'well-known', '-', '--', '.', ',', '...', '!?',
  'ΟΔΟΣ', 'Σ', 'naïve', 'café', 'straße', 'İstanbul', 'Kelvin\u212a', '日本語', 'emoji🙂', 'a.b,c', '9.', '.9',
];
const SEPARATORS = [' ', ' ', ' ', '  ', '\t', '\n', '-\n', '\u00a0', '\u3000', '\x1c', '\u0085', '\u200b', ' \n\n ', '\r\n'];

function randomText(rng: Prng, maxWords: number): string {
  const n = rng.int(maxWords + 1);
  let s = rng.int(6) === 0 ? SEPARATORS[rng.int(SEPARATORS.length)]! : '';
  for (let i = 0; i < n; i++) {
    s += PIECES[rng.int(PIECES.length)]!;
    // mostly plain spaces so that most texts take the shared path; some take the fallbacks
    s += rng.int(4) === 0 ? SEPARATORS[rng.int(SEPARATORS.length)]! : ' ';
  }
  return s;
}

describe('pySplit scan', () => {
  it('equals the regex split on random texts', () => {
    const rng = new Prng(3);
    for (let k = 0; k < 2000; k++) {
      const t = randomText(rng, 12);
      expect(pySplit(t)).toEqual(pySplitRegex(t));
    }
    expect(pySplit('')).toEqual([]);
    expect(pySplit(' \t ')).toEqual([]);
  });
});

describe('NgramMatcher', () => {
  it('equals clippedMatchesUpTo on random id sequences, including large global ids', () => {
    const rng = new Prng(5);
    const m = new NgramMatcher();
    for (let k = 0; k < 500; k++) {
      const vocab = 1 + rng.int(6);
      const offset = rng.int(3) === 0 ? 5_000_000 : 0;
      const seq = (): number[] => Array.from({ length: rng.int(15) }, () => offset + rng.int(vocab));
      const hyp = seq();
      const ref = seq();
      const matches = [0, 0, 0, 0];
      const totals = [0, 0, 0, 0];
      m.match(hyp, ref, 4, matches, totals);
      const interner = new TokenInterner();
      const h = interner.intern(hyp.map(String));
      const r = interner.intern(ref.map(String));
      const expected = clippedMatchesUpTo(h, r, 4, interner.size);
      expect({ matches, totals }).toEqual(expected);
    }
  });
});

describe('NgramMatcher on long texts (Map path past the direct table)', () => {
  it('equals clippedMatchesUpTo on 700 + 700 tokens', () => {
    const rng = new Prng(6);
    const hyp = Array.from({ length: 700 }, () => rng.int(30));
    const ref = Array.from({ length: 700 }, () => rng.int(30));
    const matches = [0, 0, 0, 0];
    const totals = [0, 0, 0, 0];
    new NgramMatcher().match(hyp, ref, 4, matches, totals);
    const interner = new TokenInterner();
    const h = interner.intern(hyp.map(String));
    const r = interner.intern(ref.map(String));
    expect({ matches, totals }).toEqual(clippedMatchesUpTo(h, r, 4, interner.size));
  });
});

describe('LexicalPass (one tokenisation per text for all lexical metrics)', () => {
  it('keeps distinct-2 exact past 2^15 different tokens (other bigram key range)', () => {
    const pass = new LexicalPass({ bleu: false, rouge: false, bleuCorpus: false, distinct: true });
    const words = Array.from({ length: 34000 }, (_, i) => `w${i}`);
    const text = words.join(' ') + ' w33999 w0 w33999 w0';
    const r = pass.score(text, '');
    expect(r.distinct2).toBe(recordDistinctN(text, 2));
    expect(r.distinct1).toBe(recordDistinctN(text, 1));
  });

  it('equals the per-metric functions on random texts', () => {
    const rng = new Prng(11);
    const pass = new LexicalPass({ bleu: true, rouge: true, bleuCorpus: true, distinct: true, sentiment: true });
    let sharedPaths = 0;
    for (let k = 0; k < 1500; k++) {
      const pred = randomText(rng, 25);
      const ref = randomText(rng, 25);
      if (!pred.includes('\n') && !ref.includes('\n')) sharedPaths++;
      const got = pass.score(pred, ref);
      expect(got.predWords).toBe(pySplit(pred).length);
      expect(got.refWords).toBe(pySplit(ref).length);
      expect(got.bleu).toBe(bleu(pred, ref));
      const rg = rougeScores(ref, pred);
      expect(got.rouge).toEqual({ rouge1: rg.rouge1.fmeasure, rouge2: rg.rouge2.fmeasure, rougeL: rg.rougeL.fmeasure, rougeLsum: rg.rougeLsum.fmeasure });
      expect(got.segment).toEqual(segmentStats(pred, ref));
      expect(got.distinct1).toBe(recordDistinctN(pred, 1));
      expect(got.distinct2).toBe(recordDistinctN(pred, 2));
      expect(got.compoundPred).toBe(polarityScores(pred).compound);
      expect(got.compoundRef).toBe(polarityScores(ref).compound);
    }
    // the test must exercise the shared path, not only the fallbacks
    expect(sharedPaths).toBeGreaterThan(250);
  });

  it('corpus distinct over any subset equals DistinctCounter on the texts', () => {
    const rng = new Prng(17);
    const pass = new LexicalPass({ bleu: false, rouge: false, bleuCorpus: false, distinct: true });
    const texts = Array.from({ length: 200 }, () => randomText(rng, 20));
    const recs = texts.map((t) => pass.score(t, ''));
    for (let k = 0; k < 20; k++) {
      const idx = Array.from({ length: 1 + rng.int(60) }, () => rng.int(texts.length));
      for (const n of [1, 2] as const) {
        const counter = new DistinctCounter(n);
        for (const i of idx) counter.add(texts[i]!);
        const lists = idx.map((i) => (n === 1 ? recs[i]!.unigrams! : recs[i]!.bigrams!));
        expect(pass.corpusDistinct(lists, n)).toBe(counter.value);
      }
    }
    expect(pass.corpusDistinct([], 1)).toBe(0);
  });

  it('leaves out what is not needed', () => {
    const pass = new LexicalPass({ bleu: true, rouge: false, bleuCorpus: false, distinct: false });
    const r = pass.score('the cat sat', 'the cat sat down');
    expect(r.bleu).toBe(bleu('the cat sat', 'the cat sat down'));
    expect(r.rouge).toBeUndefined();
    expect(r.segment).toBeUndefined();
    expect(r.unigrams).toBeUndefined();
  });
});
