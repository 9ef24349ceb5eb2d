/**
 * VADER sentiment (Hutto & Gilbert, 2014), a line-by-line port of Python `vaderSentiment`
 * 3.3.2's `SentimentIntensityAnalyzer.polarity_scores`: emoji translated to their descriptions
 * (emoji_utf8_lexicon), negation, "no", boosters, ALL-CAPS emphasis, "but", "least", special
 * idioms, ! and ? emphasis, normalisation x / sqrt(x² + 15), rounding to 4 places. The word and
 * emoji lexicons are upstream's files as of the release (see LEXICON-NOTICE.md).
 *
 * The npm port `vader-sentiment` follows an older Python release (JS `split(/\s/)`, no "no"
 * rule, the old punctuation stripping), so it is not used.
 */
import { readFileSync } from 'node:fs';
import { assetPath } from '../../core/paths.js';
import { pySplit } from '../python-text.js';

const B_INCR = 0.293;
const B_DECR = -0.293;
const C_INCR = 0.733;
const N_SCALAR = -0.74;

const NEGATE = new Set([
  'aint', 'arent', 'cannot', 'cant', 'couldnt', 'darent', 'didnt', 'doesnt',
  "ain't", "aren't", "can't", "couldn't", "daren't", "didn't", "doesn't",
  'dont', 'hadnt', 'hasnt', 'havent', 'isnt', 'mightnt', 'mustnt', 'neither',
  "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't",
  'neednt', "needn't", 'never', 'none', 'nope', 'nor', 'not', 'nothing', 'nowhere',
  'oughtnt', 'shant', 'shouldnt', 'uhuh', 'wasnt', 'werent',
  "oughtn't", "shan't", "shouldn't", 'uh-uh', "wasn't", "weren't",
  'without', 'wont', 'wouldnt', "won't", "wouldn't", 'rarely', 'seldom', 'despite',
]);

const INCR_WORDS = [
  'absolutely', 'amazingly', 'awfully', 'completely', 'considerable', 'considerably', 'decidedly', 'deeply',
  'effing', 'enormous', 'enormously', 'entirely', 'especially', 'exceptional', 'exceptionally', 'extreme',
  'extremely', 'fabulously', 'flipping', 'flippin', 'frackin', 'fracking', 'fricking', 'frickin', 'frigging',
  'friggin', 'fully', 'fuckin', 'fucking', 'fuggin', 'fugging', 'greatly', 'hella', 'highly', 'hugely',
  'incredible', 'incredibly', 'intensely', 'major', 'majorly', 'more', 'most', 'particularly', 'purely',
  'quite', 'really', 'remarkably', 'so', 'substantially', 'thoroughly', 'total', 'totally', 'tremendous',
  'tremendously', 'uber', 'unbelievably', 'unusually', 'utter', 'utterly', 'very',
];
const DECR_WORDS = [
  'almost', 'barely', 'hardly', 'just enough', 'kind of', 'kinda', 'kindof', 'kind-of', 'less', 'little',
  'marginal', 'marginally', 'occasional', 'occasionally', 'partly', 'scarce', 'scarcely', 'slight',
  'slightly', 'somewhat', 'sort of', 'sorta', 'sortof', 'sort-of',
];
const BOOSTER = new Map<string, number>([...INCR_WORDS.map((w) => [w, B_INCR] as const), ...DECR_WORDS.map((w) => [w, B_DECR] as const)]);

const SPECIAL_CASES = new Map<string, number>([
  ['the shit', 3], ['the bomb', 3], ['bad ass', 1.5], ['badass', 1.5], ['bus stop', 0.0],
  ['yeah right', -2], ['kiss of death', -1.5], ['to die for', 3], ['beating heart', 3.1], ['broken heart', -2.9],
]);

// Python string.punctuation
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

let lexicon: Map<string, number> | undefined;
let emojiTable: Map<string, string> | undefined;

/** Tab-separated key → value lines of a file beside this module (a later duplicate wins, as a Python dict). */
function readTable(name: string): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  for (const line of readFileSync(assetPath(import.meta.url, name), 'utf8').split('\n')) {
    if (!line) continue;
    const [key, value] = line.trim().split('\t');
    rows.push([key!, value!]);
  }
  return rows;
}

/** The word → valence table, loaded once from vader_lexicon.tsv beside this module. */
export function vaderLexicon(): Map<string, number> {
  return (lexicon ??= new Map(readTable('vader_lexicon.tsv').map(([w, m]) => [w, Number(m)])));
}

/**
 * The emoji → description table (emoji_utf8_lexicon.tsv). Python iterates the text one code
 * point at a time and looks each up, so only single-code-point keys can ever match (1,212 of
 * 3,570); sequences (ZWJ families, skin tones, flags) translate code point by code point.
 */
export function emojiLexicon(): Map<string, string> {
  return (emojiTable ??= new Map(readTable('emoji_utf8_lexicon.tsv')));
}

/**
 * polarity_scores' first step: every code point that is an emoji key becomes its description,
 * preceded by a space unless the previous character was a space (only ' ' counts, as upstream's
 * `prev_space = chr == ' '`); nothing is added after it ("😀good" → "grinning facegood"). The final
 * `.strip()` is left out: it changes neither the whitespace tokens nor the '!'/'?' counts.
 * Texts without non-ASCII characters are returned as they are (every emoji key is ≥ U+00A9).
 */
export function translateEmoji(text: string): string {
  if (!NON_ASCII.test(text)) return text;
  const table = emojiLexicon();
  let out = '';
  let prevSpace = true;
  for (const ch of text) {
    const description = table.get(ch);
    if (description !== undefined) {
      if (!prevSpace) out += ' ';
      out += description;
      prevSpace = false;
    } else {
      out += ch;
      prevSpace = ch === ' ';
    }
  }
  return out;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Whether translateEmoji would change the text (a shared tokenisation of it is then not VADER's). */
export function hasEmoji(text: string): boolean {
  if (!NON_ASCII.test(text)) return false;
  const table = emojiLexicon();
  for (const ch of text) if (table.has(ch)) return true;
  return false;
}

/** Python str.isupper(): at least one cased character and no lowercase or titlecase one. */
export function pyIsUpper(word: string): boolean {
  // ASCII fast path (the common case): an A-Z and no a-z; otherwise the Unicode categories
  let upper = false;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c >= 0x80) return pyIsUpperUnicode(word);
    if (c >= 0x61 && c <= 0x7a) return false;
    if (c >= 0x41 && c <= 0x5a) upper = true;
  }
  return upper;
}

function pyIsUpperUnicode(word: string): boolean {
  return /[\p{Lu}\p{Ll}\p{Lt}]/u.test(word) && !/[\p{Ll}\p{Lt}]/u.test(word);
}

/**
 * Python round(x, ndigits): the nearest decimal of the exact binary value, exact ties to even.
 * toFixed already rounds the exact value; it differs from Python only on exact ties, which
 * the exact decimal expansion (toFixed(100), exact for the magnitudes scored here) reveals.
 */
export function pyRound(x: number, ndigits: number): number {
  const scaled = Math.abs(x) * Math.pow(10, ndigits);
  // far from a tie, toFixed's answer is Python's; only near-ties need the exact expansion
  if (Math.abs(scaled - Math.floor(scaled) - 0.5) > 1e-6) return Number(x.toFixed(ndigits));
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const tail = exact.slice(dot + 1 + ndigits);
  if (/^50*$/.test(tail)) {
    const kept = exact.slice(0, dot + 1 + ndigits);
    const lastDigit = Number(kept[kept.length - 1]);
    const down = Number(kept);
    const result = lastDigit % 2 === 0 ? down : Number((down + Math.pow(10, -ndigits)).toFixed(ndigits));
    return x < 0 ? -result : result;
  }
  return Number(x.toFixed(ndigits));
}

function stripPunctuation(token: string): string {
  let start = 0;
  let end = token.length;
  while (start < end && PUNCTUATION.has(token[start]!)) start++;
  while (end > start && PUNCTUATION.has(token[end - 1]!)) end--;
  return token.slice(start, end);
}

/** SentiText._words_and_emoticons: whitespace tokens, edge punctuation stripped unless that leaves <= 2 chars. */
export function wordsAndEmoticons(text: string): string[] {
  return pySplit(text).map((token) => wordInfo(token).word);
}

/** What VADER derives from one whitespace token: its word (punctuation rule), lowercase, isupper. */
export interface WordInfo {
  word: string;
  lower: string;
  upper: boolean;
  /** lexicon valence of `lower` (undefined: not in the lexicon) */
  lex: number | undefined;
  /** booster scalar of `lower` (undefined: not a booster) */
  booster: number | undefined;
  /** negated(lower) */
  negated: boolean;
  /** `lower` is a word of some multi-word idiom or booster (specialIdiomsCheck may match) */
  idiom: boolean;
  /** '!' and '?' in the whole token (punctuation emphasis counts them over the text) */
  exclamations: number;
  questions: number;
}

// Pure functions of the token, memoised; bounded so a huge corpus cannot grow it forever.
const wordCache = new Map<string, WordInfo>();
const WORD_CACHE_LIMIT = 200_000;

function wordInfo(token: string): WordInfo {
  let info = wordCache.get(token);
  if (info === undefined) {
    info = vaderWord(token);
    if (wordCache.size >= WORD_CACHE_LIMIT) wordCache.clear();
    wordCache.set(token, info);
  }
  return info;
}

/** VADER's view of one whitespace token (a pure function of it; callers may memoise it). */
export function vaderWord(token: string, lexicon: ReadonlyMap<string, number> = vaderLexicon()): WordInfo {
  const stripped = stripPunctuation(token);
  const word = stripped.length <= 2 ? token : stripped;
  const lower = word.toLowerCase();
  let exclamations = 0;
  let questions = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x21) exclamations++;
    else if (c === 0x3f) questions++;
  }
  return {
    word, lower, upper: pyIsUpper(word), lex: lexicon.get(lower), booster: BOOSTER.get(lower), negated: negated(lower), idiom: IDIOM_WORDS.has(lower),
    exclamations, questions,
  };
}

function negated(word: string): boolean {
  const w = word.toLowerCase();
  return NEGATE.has(w) || w.includes("n't");
}

function allcapDifferential(upper: readonly boolean[]): boolean {
  let allcap = 0;
  for (const u of upper) if (u) allcap++;
  const diff = upper.length - allcap;
  return diff > 0 && diff < upper.length;
}

function scalarIncDec(word: WordInfo, valence: number, isCapDiff: boolean): number {
  const booster = word.booster;
  if (booster === undefined) return 0;
  let scalar = booster;
  if (valence < 0) scalar *= -1;
  if (word.upper && isCapDiff) scalar += valence > 0 ? C_INCR : -C_INCR;
  return scalar;
}

function negationCheck(valence: number, lower: readonly string[], infos: readonly WordInfo[], startI: number, i: number): number {
  if (startI === 0) {
    if (infos[i - 1]!.negated) valence *= N_SCALAR;
  }
  if (startI === 1) {
    if (lower[i - 2] === 'never' && (lower[i - 1] === 'so' || lower[i - 1] === 'this')) valence *= 1.25;
    else if (lower[i - 2] === 'without' && lower[i - 1] === 'doubt') valence = valence + 0;
    else if (infos[i - 2]!.negated) valence *= N_SCALAR;
  }
  if (startI === 2) {
    // Python precedence: (never and (so|this)) or (so|this at i-1)
    if ((lower[i - 3] === 'never' && (lower[i - 2] === 'so' || lower[i - 2] === 'this')) || lower[i - 1] === 'so' || lower[i - 1] === 'this') valence *= 1.25;
    else if (lower[i - 3] === 'without' && (lower[i - 2] === 'doubt' || lower[i - 1] === 'doubt')) valence = valence + 0;
    else if (infos[i - 3]!.negated) valence *= N_SCALAR;
  }
  return valence;
}

// Every word of a multi-word SPECIAL_CASES or BOOSTER key. A sequence built from words none of
// which is here cannot match any key, so specialIdiomsCheck may return early (same result).
const IDIOM_WORDS = new Set([...SPECIAL_CASES.keys(), ...[...BOOSTER.keys()].filter((k) => k.includes(' '))].flatMap((k) => k.split(' ')));

function specialIdiomsCheck(valence: number, lower: readonly string[], infos: readonly WordInfo[], i: number): number {
  let possible = false;
  for (let j = i - 3; j <= i + 2 && !possible; j++) if (j >= 0 && j < lower.length && infos[j]!.idiom) possible = true;
  if (!possible) return valence;
  const onezero = `${lower[i - 1]} ${lower[i]}`;
  const twoonezero = `${lower[i - 2]} ${lower[i - 1]} ${lower[i]}`;
  const twoone = `${lower[i - 2]} ${lower[i - 1]}`;
  const threetwoone = `${lower[i - 3]} ${lower[i - 2]} ${lower[i - 1]}`;
  const threetwo = `${lower[i - 3]} ${lower[i - 2]}`;
  for (const seq of [onezero, twoonezero, twoone, threetwoone, threetwo]) {
    const v = SPECIAL_CASES.get(seq);
    if (v !== undefined) {
      valence = v;
      break;
    }
  }
  if (lower.length - 1 > i) {
    const v = SPECIAL_CASES.get(`${lower[i]} ${lower[i + 1]}`);
    if (v !== undefined) valence = v;
  }
  if (lower.length - 1 > i + 1) {
    const v = SPECIAL_CASES.get(`${lower[i]} ${lower[i + 1]} ${lower[i + 2]}`);
    if (v !== undefined) valence = v;
  }
  for (const ngram of [threetwoone, threetwo, twoone]) {
    const b = BOOSTER.get(ngram);
    if (b !== undefined) valence = valence + b;
  }
  return valence;
}

function leastCheck(valence: number, lower: readonly string[], infos: readonly WordInfo[], i: number): number {
  if (i > 1 && infos[i - 1]!.lex === undefined && lower[i - 1] === 'least') {
    if (lower[i - 2] !== 'at' && lower[i - 2] !== 'very') valence *= N_SCALAR;
  } else if (i > 0 && infos[i - 1]!.lex === undefined && lower[i - 1] === 'least') {
    valence *= N_SCALAR;
  }
  return valence;
}

function sentimentValence(words: readonly string[], lower: readonly string[], infos: readonly WordInfo[], isCapDiff: boolean, i: number): number {
  const itemLower = lower[i]!;
  const base = infos[i]!.lex;
  if (base === undefined) return 0;
  let valence = base;
  if (itemLower === 'no' && i !== words.length - 1 && infos[i + 1]!.lex !== undefined) valence = 0.0;
  if ((i > 0 && lower[i - 1] === 'no') || (i > 1 && lower[i - 2] === 'no') || (i > 2 && lower[i - 3] === 'no' && (lower[i - 1] === 'or' || lower[i - 1] === 'nor'))) {
    valence = base * N_SCALAR;
  }
  if (infos[i]!.upper && isCapDiff) valence += valence > 0 ? C_INCR : -C_INCR;
  for (let startI = 0; startI < 3; startI++) {
    if (i > startI && infos[i - (startI + 1)]!.lex === undefined) {
      let s = scalarIncDec(infos[i - (startI + 1)]!, valence, isCapDiff);
      if (startI === 1 && s !== 0) s = s * 0.95;
      if (startI === 2 && s !== 0) s = s * 0.9;
      valence = valence + s;
      valence = negationCheck(valence, lower, infos, startI, i);
      if (startI === 2) valence = specialIdiomsCheck(valence, lower, infos, i);
    }
  }
  return leastCheck(valence, lower, infos, i);
}

/** _but_check, including Python's `sentiments.index(value)` lookup of the FIRST equal value. */
function butCheck(lower: readonly string[], sentiments: number[]): number[] {
  const bi = lower.indexOf('but');
  if (bi === -1) return sentiments;
  for (let k = 0; k < sentiments.length; k++) {
    const sentiment = sentiments[k]!;
    const si = sentiments.indexOf(sentiment);
    if (si < bi) sentiments[si] = sentiment * 0.5;
    else if (si > bi) sentiments[si] = sentiment * 1.5;
  }
  return sentiments;
}

/** _punctuation_emphasis from the '!'/'?' counts of the words' tokens (whitespace holds neither). */
function punctuationEmphasis(words: readonly WordInfo[]): number {
  let ep = 0;
  let qm = 0;
  for (const w of words) {
    ep += w.exclamations;
    qm += w.questions;
  }
  const epAmplifier = Math.min(ep, 4) * 0.292;
  const qmAmplifier = qm > 1 ? (qm <= 3 ? qm * 0.18 : 0.96) : 0;
  return epAmplifier + qmAmplifier;
}

function normalize(score: number, alpha = 15): number {
  const norm = score / Math.sqrt(score * score + alpha);
  return norm < -1 ? -1 : norm > 1 ? 1 : norm;
}

export interface PolarityScores {
  neg: number;
  neu: number;
  pos: number;
  compound: number;
}

/**
 * The per-word sentiments (after the "but" rule), their plain sum and the punctuation amplifier;
 * undefined when the text has no word. The leading/trailing whitespace strip of SentiText does
 * not change the words (pySplit ignores it) nor the '!'/'?' counts, so it is not repeated here.
 */
function valences(text: string, given?: readonly WordInfo[], lexicon?: ReadonlyMap<string, number>): { sentiments: number[]; sum: number; amplifier: number } | undefined {
  // Shared tokens are of the raw text: with an emoji in it, VADER's words are those of the translation.
  const infos = given && !hasEmoji(text) ? given : pySplit(translateEmoji(text)).map(lexicon ? (t) => vaderWord(t, lexicon) : wordInfo);
  if (infos.length === 0) return undefined;
  const words: string[] = [];
  const lower: string[] = [];
  const upper: boolean[] = [];
  for (const info of infos) {
    words.push(info.word);
    lower.push(info.lower);
    upper.push(info.upper);
  }
  const isCapDiff = allcapDifferential(upper);
  let sentiments: number[] = [];
  for (let i = 0; i < words.length; i++) {
    if (infos[i]!.booster !== undefined) {
      sentiments.push(0);
      continue;
    }
    if (i < words.length - 1 && lower[i] === 'kind' && lower[i + 1] === 'of') {
      sentiments.push(0);
      continue;
    }
    sentiments.push(sentimentValence(words, lower, infos, isCapDiff, i));
  }
  sentiments = butCheck(lower, sentiments);
  let sum = 0;
  for (const s of sentiments) sum += s;
  return { sentiments, sum, amplifier: punctuationEmphasis(infos) };
}

/**
 * polarityScores(text).compound without the other three ratios (what sentiment_similarity uses).
 * `words`, when given, must be vaderWord of each pySplit token of `text` (shared tokenisation);
 * they are not used when the text holds an emoji (its translation has other tokens).
 */
export function compoundScore(text: string, words?: readonly WordInfo[]): number {
  const v = valences(text, words);
  if (!v) return 0;
  let sum = v.sum;
  if (sum > 0) sum += v.amplifier;
  else if (sum < 0) sum -= v.amplifier;
  return pyRound(normalize(sum), 4);
}

/**
 * vaderSentiment 3.3.2 SentimentIntensityAnalyzer().polarity_scores(text). `lexicon` replaces
 * the word lexicon (as assigning `analyzer.lexicon` does in Python), e.g. to reproduce a result
 * published with an earlier lexicon.
 */
export function polarityScores(rawText: string, options: { lexicon?: ReadonlyMap<string, number> } = {}): PolarityScores {
  const v = valences(rawText, undefined, options.lexicon);
  if (!v) return { neg: 0, neu: 0, pos: 0, compound: 0 };
  const { sentiments, amplifier } = v;
  let sum = v.sum;
  if (sum > 0) sum += amplifier;
  else if (sum < 0) sum -= amplifier;
  const compound = normalize(sum);
  let posSum = 0;
  let negSum = 0;
  let neuCount = 0;
  for (const s of sentiments) {
    if (s > 0) posSum += s + 1;
    if (s < 0) negSum += s - 1;
    if (s === 0) neuCount += 1;
  }
  if (posSum > Math.abs(negSum)) posSum += amplifier;
  else if (posSum < Math.abs(negSum)) negSum -= amplifier;
  const total = posSum + Math.abs(negSum) + neuCount;
  return {
    neg: pyRound(Math.abs(negSum / total), 3),
    neu: pyRound(Math.abs(neuCount / total), 3),
    pos: pyRound(Math.abs(posSum / total), 3),
    compound: pyRound(compound, 4),
  };
}
