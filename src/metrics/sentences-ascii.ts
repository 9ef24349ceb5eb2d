/**
 * Sentence counting for ASCII-only text by the UAX #29 sentence-break rules (SB3–SB11), the
 * rules Intl.Segmenter('en', { granularity: 'sentence' }) applies, without its per-segment
 * objects. Only ASCII classes occur: CR, LF, Sp (\t \v \f space), Lower, Upper, Numeric,
 * ATerm (.), STerm (! ?), Close (" ' ( ) [ ] { }), SContinue (, - : ;), Other. A segment
 * counts when it has a letter or digit. Non-ASCII text returns undefined (the caller uses
 * Intl.Segmenter); test/metrics/sentences-ascii.test.ts checks equality with Intl.Segmenter
 * on random ASCII texts built from every class.
 */
const OTHER = 0;
const CR = 1;
const LF = 2;
const SP = 3;
const LOWER = 4;
const UPPER = 5;
const NUMERIC = 6;
const ATERM = 7;
const STERM = 8;
const CLOSE = 9;
const SCONTINUE = 10;

const CLASS = new Uint8Array(128);
CLASS[0x0d] = CR;
CLASS[0x0a] = LF;
for (const c of [0x09, 0x0b, 0x0c, 0x20]) CLASS[c] = SP;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = LOWER;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = UPPER;
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = NUMERIC;
CLASS[0x2e] = ATERM;
CLASS[0x21] = STERM;
CLASS[0x3f] = STERM;
for (const c of [0x22, 0x27, 0x28, 0x29, 0x5b, 0x5d, 0x7b, 0x7d]) CLASS[c] = CLOSE;
for (const c of [0x2c, 0x2d, 0x3a, 0x3b]) CLASS[c] = SCONTINUE;

let scratch = new Uint8Array(1024);

/** Sentences with a letter or digit in an ASCII text; undefined when the text is not ASCII. */
export function asciiSentenceCount(text: string): number | undefined {
  const n = text.length;
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  const cls = scratch;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return undefined;
    cls[i] = CLASS[c]!;
  }
  let count = 0;
  let start = 0;
  /** Ends the segment [start, end): counts it when it has a letter or digit. */
  function close(end: number): void {
    for (let k = start; k < end; k++) {
      const c = cls[k]!;
      if (c === LOWER || c === UPPER || c === NUMERIC) {
        count++;
        break;
      }
    }
    start = end;
  }
  let i = 0;
  while (i < n) {
    const c = cls[i]!;
    if (c === CR || c === LF) {
      // SB3 CR × LF, SB4 ParaSep ÷
      i += c === CR && i + 1 < n && cls[i + 1] === LF ? 2 : 1;
      if (i < n) close(i);
      continue;
    }
    if (c !== ATERM && c !== STERM) {
      i++;
      continue;
    }
    const next = i + 1 < n ? cls[i + 1]! : -1;
    if (c === ATERM && next === NUMERIC) {
      i++; // SB6
      continue;
    }
    if (c === ATERM && next === UPPER && i > 0 && (cls[i - 1] === UPPER || cls[i - 1] === LOWER)) {
      i++; // SB7
      continue;
    }
    let m = i + 1;
    while (m < n && cls[m] === CLOSE) m++;
    while (m < n && cls[m] === SP) m++;
    if (m >= n) break; // SB2: no break at the end
    const at = cls[m]!;
    if (c === ATERM) {
      // SB8: ATerm Close* Sp* × ( ¬(OLetter | Upper | Lower | ParaSep | SATerm) )* Lower
      let k = m;
      while (k < n) {
        const x = cls[k]!;
        if (x === UPPER || x === LOWER || x === CR || x === LF || x === ATERM || x === STERM) break;
        k++;
      }
      if (k < n && cls[k] === LOWER) {
        i = m;
        continue;
      }
    }
    if (at === SCONTINUE || at === ATERM || at === STERM) {
      i = m; // SB8a
      continue;
    }
    if (at === CR || at === LF) {
      // SB9/SB10 keep the paragraph separator with the sentence; SB11 breaks after it
      m += at === CR && m + 1 < n && cls[m + 1] === LF ? 2 : 1;
      if (m < n) close(m);
      i = m;
      continue;
    }
    close(m); // SB11
    i = m;
  }
  close(n);
  return count;
}
