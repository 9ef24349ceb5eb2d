/**
 * One pass over a record for all lexical metrics: each text is split once on Python whitespace,
 * and every whitespace token is looked up in a per-run table that memoises what each metric's
 * tokenizer makes of it (ids, not strings):
 *
 *   raw   — the token itself                       (distinct-n, word counts)
 *   lower — token.toLowerCase()                     (NLTK sentence BLEU: text.lower().split())
 *   rouge — rouge-score's tokens of it, stemmed     (ROUGE-1/2/L)
 *   t13a  — sacrebleu's 13a tokens of it             (corpus BLEU)
 *   vader — VADER's word, lowercase, flags           (sentiment_similarity; VADER splits on
 *                                                     Python whitespace itself)
 *
 * This is exact because every one of these tokenizers treats whitespace as a boundary that no
 * rule crosses: lowercasing is per character (the Greek final-sigma context stops at whitespace),
 * rouge-score maps whitespace to a separator, and the 13a regexes only look at a character's
 * direct neighbours, whitespace being neither a digit nor '.'/','. The two exceptions take the
 * per-metric functions: 13a's '-\n' join (a text containing "-\n") and rougeLsum's line split
 * (a text containing '\n'). test/metrics/lexical-pass.test.ts checks equality with the
 * per-metric functions on random texts built to hit these rules.
 */
import { bleuFromCounts } from './bleu.js';
import { isPyWhitespace } from './python-text.js';
import { NgramMatcher } from './ngram-matcher.js';
import { fmeasure, rougeScores, rougeTokenize } from './rouge.js';
import { BitLcs } from './lcs.js';
import { segmentStats, tokenize13a, type SegmentStats } from './sacrebleu.js';
import { compoundScore, vaderWord, type WordInfo } from './sentiment/vader.js';

export interface LexicalNeeds {
  bleu: boolean;
  rouge: boolean;
  bleuCorpus: boolean;
  distinct: boolean;
  /** VADER compound scores of both texts (sentiment_similarity). */
  sentiment?: boolean;
}

/** ROUGE F-measures of one record. */
export interface RougeF {
  rouge1: number;
  rouge2: number;
  rougeL: number;
  rougeLsum: number;
}

export interface LexicalRecord {
  /** Whitespace tokens of the prediction / reference. */
  predWords: number;
  refWords: number;
  bleu?: number;
  rouge?: RougeF;
  segment?: SegmentStats;
  /** Raw-token ids of the prediction (distinct-1) and its bigram ids (distinct-2). */
  unigrams?: Int32Array;
  bigrams?: Int32Array;
  distinct1?: number;
  distinct2?: number;
  /** VADER compound of prediction / reference. */
  compoundPred?: number;
  compoundRef?: number;
}

interface TokenEntry {
  raw: number;
  lower: number;
  rouge: Int32Array;
  t13a: Int32Array;
  vader: WordInfo | undefined;
}

const EMPTY = new Int32Array(0);
/**
 * Dense ids for pairs of non-negative int32 ids (bigrams of token ids): an open-addressing hash
 * table on typed arrays (linear probing, load <= 1/2), so no key object or boxed number per pair.
 */
class PairIds {
  private keysA = new Int32Array(1 << 12).fill(-1);
  private keysB = new Int32Array(1 << 12);
  private vals = new Int32Array(1 << 12);
  size = 0;

  id(a: number, b: number): number {
    const mask = this.keysA.length - 1;
    let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77)) & mask;
    for (;;) {
      const ka = this.keysA[h]!;
      if (ka === -1) break;
      if (ka === a && this.keysB[h] === b) return this.vals[h]!;
      h = (h + 1) & mask;
    }
    const id = this.size++;
    this.keysA[h] = a;
    this.keysB[h] = b;
    this.vals[h] = id;
    if (this.size * 2 > this.keysA.length) this.grow();
    return id;
  }

  private grow(): void {
    const oa = this.keysA;
    const ob = this.keysB;
    const ov = this.vals;
    const cap = oa.length * 2;
    this.keysA = new Int32Array(cap).fill(-1);
    this.keysB = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    const mask = cap - 1;
    for (let i = 0; i < oa.length; i++) {
      const a = oa[i]!;
      if (a === -1) continue;
      const b = ob[i]!;
      let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77)) & mask;
      while (this.keysA[h] !== -1) h = (h + 1) & mask;
      this.keysA[h] = a;
      this.keysB[h] = b;
      this.vals[h] = ov[i]!;
    }
  }
}

class Vocab {
  private readonly ids = new Map<string, number>();
  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) this.ids.set(s, (id = this.ids.size));
    return id;
  }
  get size(): number {
    return this.ids.size;
  }
}

/** Scores records on the lexical metrics; holds the per-run token table (not re-entrant). */
export class LexicalPass {
  private readonly entries = new Map<string, TokenEntry>();
  private readonly lowerVocab = new Vocab();
  private readonly rougeVocab = new Vocab();
  private readonly t13aVocab = new Vocab();
  private readonly bigramIds = new PairIds();
  private readonly matcher = new NgramMatcher();
  private readonly lcs = new BitLcs();
  private readonly bufA = new IdBuffer();
  private readonly bufB = new IdBuffer();
  private readonly matches = [0, 0, 0, 0];
  private readonly totals = [0, 0, 0, 0];
  private stamp = new Int32Array(1024);
  private epoch = 0;

  constructor(private readonly needs: LexicalNeeds) {}

  /** Number of distinct raw tokens / bigrams seen so far (id bounds for corpusDistinct). */
  get unigramVocab(): number {
    return this.entries.size;
  }
  get bigramVocab(): number {
    return this.bigramIds.size;
  }

  private entry(tok: string): TokenEntry {
    let e = this.entries.get(tok);
    if (e === undefined) {
      const n = this.needs;
      e = {
        raw: this.entries.size,
        lower: n.bleu ? this.lowerVocab.id(tok.toLowerCase()) : -1,
        rouge: n.rouge ? Int32Array.from(rougeTokenize(tok), (t) => this.rougeVocab.id(t)) : EMPTY,
        t13a: n.bleuCorpus ? Int32Array.from(tokenize13a(tok), (t) => this.t13aVocab.id(t)) : EMPTY,
        vader: n.sentiment ? vaderWord(tok) : undefined,
      };
      this.entries.set(tok, e);
    }
    return e;
  }

  /** The token entries of `text` split on Python whitespace. */
  private tokens(text: string): TokenEntry[] {
    const out: TokenEntry[] = [];
    let start = -1;
    for (let i = 0; i < text.length; i++) {
      if (isPyWhitespace(text.charCodeAt(i))) {
        if (start >= 0) {
          out.push(this.entry(text.slice(start, i)));
          start = -1;
        }
      } else if (start < 0) start = i;
    }
    if (start >= 0) out.push(this.entry(start === 0 ? text : text.slice(start)));
    return out;
  }

  score(prediction: string, reference: string): LexicalRecord {
    const n = this.needs;
    const p = this.tokens(prediction);
    const r = this.tokens(reference);
    const out: LexicalRecord = { predWords: p.length, refWords: r.length };
    if (n.bleu) out.bleu = this.bleu(p, r);
    if (n.rouge) out.rouge = prediction.includes('\n') || reference.includes('\n') ? rougeF(reference, prediction) : this.rouge(p, r);
    if (n.bleuCorpus) out.segment = prediction.includes('-\n') || reference.includes('-\n') ? segmentStats(prediction, reference) : this.segment(p, r);
    if (n.distinct) this.distinct(p, out);
    if (n.sentiment) {
      out.compoundPred = compoundScore(prediction, p.map((e) => e.vader!));
      out.compoundRef = compoundScore(reference, r.map((e) => e.vader!));
    }
    return out;
  }

  private bleu(p: TokenEntry[], r: TokenEntry[]): number {
    const hyp = this.bufA.ids(p, 'lower');
    const ref = this.bufB.ids(r, 'lower');
    const { matches, totals } = this;
    this.matcher.match(hyp, ref, 4, matches, totals);
    for (let i = 0; i < 4; i++) totals[i] = Math.max(1, totals[i]!);
    return bleuFromCounts(matches, totals, hyp.length, [ref.length]);
  }

  private rouge(p: TokenEntry[], r: TokenEntry[]): RougeF {
    const pred = this.bufA.ids(p, 'rouge');
    const target = this.bufB.ids(r, 'rouge');
    const { matches, totals } = this;
    this.matcher.match(pred, target, 2, matches, totals);
    const rn = (order: number): number => {
      const overlap = matches[order - 1]!;
      return fmeasure(overlap / Math.max(Math.max(pred.length - order + 1, 0), 1), overlap / Math.max(Math.max(target.length - order + 1, 0), 1));
    };
    let rougeL = 0;
    if (target.length > 0 && pred.length > 0) {
      const lcs = this.lcs.length(target, pred);
      rougeL = fmeasure(lcs / pred.length, lcs / target.length);
    }
    // one line each side: summary-level LCS equals LCS (see rouge.ts rougeScores)
    return { rouge1: rn(1), rouge2: rn(2), rougeL, rougeLsum: rougeL };
  }

  private segment(p: TokenEntry[], r: TokenEntry[]): SegmentStats {
    const hyp = this.bufA.ids(p, 't13a');
    const ref = this.bufB.ids(r, 't13a');
    const correct = [0, 0, 0, 0];
    const total = [0, 0, 0, 0];
    this.matcher.match(hyp, ref, 4, correct, total);
    return { sysLen: hyp.length, refLen: ref.length, correct, total };
  }

  private distinct(p: TokenEntry[], out: LexicalRecord): void {
    const uni = new Int32Array(p.length);
    for (let i = 0; i < p.length; i++) uni[i] = p[i]!.raw;
    const bi = new Int32Array(Math.max(0, p.length - 1));
    for (let i = 0; i < bi.length; i++) bi[i] = this.bigramIds.id(uni[i]!, uni[i + 1]!);
    out.unigrams = uni;
    out.bigrams = bi;
    out.distinct1 = uni.length === 0 ? 0 : this.uniqueCount([uni], this.entries.size) / uni.length;
    out.distinct2 = bi.length === 0 ? 0 : this.uniqueCount([bi], this.bigramIds.size) / bi.length;
  }

  /** Number of different ids over `lists` (ids below `bound`). */
  uniqueCount(lists: readonly Int32Array[], bound: number): number {
    if (this.stamp.length < bound) this.stamp = new Int32Array(Math.max(bound, this.stamp.length * 2));
    if (++this.epoch === 0x7fffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    const stamp = this.stamp;
    const epoch = this.epoch;
    let unique = 0;
    for (const ids of lists) {
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (stamp[id] !== epoch) {
          stamp[id] = epoch;
          unique++;
        }
      }
    }
    return unique;
  }

  /** Corpus distinct-n over the given records' id lists (unigrams for n = 1, bigrams for n = 2). */
  corpusDistinct(lists: readonly Int32Array[], n: 1 | 2): number {
    let total = 0;
    for (const ids of lists) total += ids.length;
    return total === 0 ? 0 : this.uniqueCount(lists, n === 1 ? this.entries.size : this.bigramIds.size) / total;
  }
}

/** A reusable id buffer: the ids of one tokenizer for a list of token entries (a view, valid until the next call). */
class IdBuffer {
  private buf = new Int32Array(256);
  ids(entries: readonly TokenEntry[], kind: 'lower' | 'rouge' | 't13a'): Int32Array {
    // one loop per kind: a property read with a constant name stays monomorphic
    let n = 0;
    if (kind === 'lower') {
      this.reserve(entries.length);
      const buf = this.buf;
      for (let i = 0; i < entries.length; i++) buf[n++] = entries[i]!.lower;
    } else if (kind === 'rouge') {
      for (let k = 0; k < entries.length; k++) {
        const ids = entries[k]!.rouge;
        if (n + ids.length > this.buf.length) this.reserve(n + ids.length);
        const buf = this.buf;
        for (let i = 0; i < ids.length; i++) buf[n++] = ids[i]!;
      }
    } else {
      for (let k = 0; k < entries.length; k++) {
        const ids = entries[k]!.t13a;
        if (n + ids.length > this.buf.length) this.reserve(n + ids.length);
        const buf = this.buf;
        for (let i = 0; i < ids.length; i++) buf[n++] = ids[i]!;
      }
    }
    return this.buf.subarray(0, n);
  }
  private reserve(size: number): void {
    if (this.buf.length < size) {
      const next = new Int32Array(Math.max(size, this.buf.length * 2));
      next.set(this.buf);
      this.buf = next;
    }
  }
}

function rougeF(reference: string, prediction: string): RougeF {
  const rg = rougeScores(reference, prediction);
  return { rouge1: rg.rouge1.fmeasure, rouge2: rg.rouge2.fmeasure, rougeL: rg.rougeL.fmeasure, rougeLsum: rg.rougeLsum.fmeasure };
}
