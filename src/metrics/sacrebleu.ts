/**
 * Corpus BLEU exactly as `sacrebleu.corpus_bleu(hypotheses, [references])` computes it with its
 * defaults (tokenize='13a', smooth_method='exp', lowercase=False, effective_order=False),
 * returned on a 0–1 scale (sacrebleu's score / 100).
 */
import { pySplit } from './python-text.js';
import { TokenInterner, clippedMatchesUpTo, clippedOverlap, ngramCounts } from './ngrams.js';
import { InternalError } from '../core/errors.js';

const MAX_ORDER = 4;

// mteval-v13a punctuation: { | } ~  [ \ ] ^ _ `  space ! " # $ % &  ( ) * +  : ; < = > ? @  /
const PUNCT = /([\x7b-\x7e\x5b-\x60\x20-\x26\x28-\x2b\x3a-\x40\x2f])/g;
const PERIOD_COMMA_AFTER_NON_DIGIT = /([^0-9])([.,])/g;
const PERIOD_COMMA_BEFORE_NON_DIGIT = /([.,])([^0-9])/g;
const DASH_AFTER_DIGIT = /([0-9])(-)/g;

/** sacrebleu `Tokenizer13a()(line)` preceded by BLEU's `rstrip()` (Python whitespace). */
export function tokenize13a(text: string): string[] {
  let line = text.replace(/[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/, '');
  line = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  line = line.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  line = ` ${line} `;
  line = line.replace(PUNCT, ' $1 ');
  line = line.replace(PERIOD_COMMA_AFTER_NON_DIGIT, '$1 $2 ');
  line = line.replace(PERIOD_COMMA_BEFORE_NON_DIGIT, ' $1 $2');
  line = line.replace(DASH_AFTER_DIGIT, '$1 $2 ');
  return pySplit(line);
}

export interface CorpusBleuResult {
  /** 0–1 (sacrebleu's score / 100). */
  score: number;
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
  correct: number[];
  total: number[];
}

/**
 * sacrebleu corpus BLEU. `referenceStreams` is sacrebleu's `refs` argument: one array per
 * reference set, each aligned with `hypotheses` (the common case is one stream).
 */
export function corpusBleu(hypotheses: readonly string[], ...referenceStreams: (readonly string[])[]): CorpusBleuResult {
  if (referenceStreams.length === 0) throw new InternalError('corpusBleu: no reference stream');
  for (const refs of referenceStreams) {
    if (refs.length !== hypotheses.length) throw new InternalError(`corpusBleu: ${hypotheses.length} hypotheses but a reference stream of ${refs.length}`);
  }
  const correct = new Array<number>(MAX_ORDER).fill(0);
  const total = new Array<number>(MAX_ORDER).fill(0);
  let sysLen = 0;
  let refLen = 0;
  for (let s = 0; s < hypotheses.length; s++) {
    const interner = new TokenInterner();
    const hyp = interner.intern(tokenize13a(hypotheses[s]!));
    const refs = referenceStreams.map((stream) => interner.intern(tokenize13a(stream[s]!)));
    sysLen += hyp.length;
    refLen += closestLength(refs.map((r) => r.length), hyp.length);
    for (let n = 1; n <= MAX_ORDER; n++) {
      const hc = ngramCounts(hyp, n, interner.size);
      // reference n-gram counts merged by max over the references (sacrebleu _extract_reference_info)
      let refCounts = ngramCounts(refs[0]!, n, interner.size);
      for (let r = 1; r < refs.length; r++) {
        refCounts = new Map(refCounts);
        for (const [k, c] of ngramCounts(refs[r]!, n, interner.size)) if (c > (refCounts.get(k) ?? 0)) refCounts.set(k, c);
      }
      total[n - 1]! += Math.max(0, hyp.length - n + 1);
      correct[n - 1]! += clippedOverlap(hc, refCounts);
    }
  }
  return computeBleu(correct, total, sysLen, refLen);
}

/** sacrebleu `_get_closest_ref_len`: nearest reference length, the shorter on a tie. */
function closestLength(refLens: readonly number[], hypLen: number): number {
  let closestDiff = -1;
  let closestLen = -1;
  for (const len of refLens) {
    const diff = Math.abs(hypLen - len);
    if (closestDiff === -1 || diff < closestDiff) {
      closestDiff = diff;
      closestLen = len;
    } else if (diff === closestDiff && len < closestLen) {
      closestLen = len;
    }
  }
  return closestLen;
}

/** Sufficient statistics of one segment (one reference), to sum over any group of segments. */
export interface SegmentStats {
  sysLen: number;
  refLen: number;
  correct: number[];
  total: number[];
}

export function segmentStats(hypothesis: string, reference: string): SegmentStats {
  const interner = new TokenInterner();
  const hyp = interner.intern(tokenize13a(hypothesis));
  const ref = interner.intern(tokenize13a(reference));
  const { matches, totals } = clippedMatchesUpTo(hyp, ref, MAX_ORDER, interner.size);
  return { sysLen: hyp.length, refLen: ref.length, correct: matches, total: totals };
}

/** Corpus BLEU from per-segment statistics (same result as corpusBleu on those segments). */
export function corpusBleuFromStats(stats: readonly SegmentStats[]): CorpusBleuResult {
  const correct = new Array<number>(MAX_ORDER).fill(0);
  const total = new Array<number>(MAX_ORDER).fill(0);
  let sysLen = 0;
  let refLen = 0;
  for (const s of stats) {
    sysLen += s.sysLen;
    refLen += s.refLen;
    for (let n = 0; n < MAX_ORDER; n++) {
      correct[n]! += s.correct[n]!;
      total[n]! += s.total[n]!;
    }
  }
  return computeBleu(correct, total, sysLen, refLen);
}

/** sacrebleu `BLEU.compute_bleu` with smooth_method='exp', effective_order=False. */
export function computeBleu(correct: number[], total: number[], sysLen: number, refLen: number): CorpusBleuResult {
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(MAX_ORDER).fill(0);
  const result = { precisions, bp, sysLen, refLen, correct: [...correct], total: [...total] };
  if (!correct.some((c) => c !== 0)) return { score: 0, ...result };
  let smoothMteval = 1;
  for (let n = 1; n <= MAX_ORDER; n++) {
    if (total[n - 1] === 0) break;
    if (correct[n - 1] === 0) {
      smoothMteval *= 2;
      precisions[n - 1] = 100 / (smoothMteval * total[n - 1]!);
    } else {
      precisions[n - 1] = (100 * correct[n - 1]!) / total[n - 1]!;
    }
  }
  // sacrebleu's my_log: log(0) is -9999999999, which drives the score to 0
  let logSum = 0;
  for (const p of precisions) logSum += p === 0 ? -9999999999 : Math.log(p);
  const score100 = bp * Math.exp(logSum / MAX_ORDER);
  return { score: score100 / 100, ...result };
}
