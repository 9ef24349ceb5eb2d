/**
 * Word-level helpers of the quality metric: English words (the `word-list` package: 274k words
 * from a Scrabble-style list, lowercase, no one-letter words, no contractions), a stopword list,
 * and content stems (rouge-score's tokens: lowercase, runs of [a-z0-9], Porter-stemmed when
 * longer than 3 characters).
 */
import { readFileSync } from 'node:fs';
import wordListPath from 'word-list';
import { porterStem } from '../porter.js';

let english: Set<string> | undefined;

/** The English word list, loaded once (~0.1 s). */
export function englishWords(): Set<string> {
  if (english) return english;
  english = new Set(readFileSync(wordListPath, 'utf8').split('\n'));
  for (const w of ['a', 'i', 'o', 'ok', 'tv', 'ai', 'app', 'apps', 'email', 'online', 'wifi', 'covid', 'internet']) english.add(w);
  return english;
}

// English contraction endings: "don't" is a word when "do" is; "I'd", "we're", "it's" likewise.
const CONTRACTION = /^(.+?)(?:n't|'s|'re|'ve|'ll|'d|'m|’s|’re|’ve|’ll|’d|’m|n’t)$/;

/**
 * Whether a lowercase alphabetic token (letters and inner apostrophes/hyphens) is English:
 * in the list, a contraction of a listed word, or a hyphenated compound of listed words.
 */
export function isEnglishWord(token: string, extra?: ReadonlySet<string>): boolean {
  if (extra?.has(token)) return true; // the file's own words first: most tokens never touch the list
  const words = englishWords();
  if (words.has(token)) return true;
  const c = CONTRACTION.exec(token);
  if (c && (words.has(c[1]!) || c[1] === 'ca' || c[1] === 'wo' || c[1] === 'sha')) return true; // can't, won't, shan't
  if (token.includes('-')) return token.split('-').every((part) => part === '' || words.has(part) || extra?.has(part) === true);
  return false;
}

/** Alphabetic tokens of a text, lowercase (apostrophes and hyphens inside a word kept). */
export function alphabeticTokens(text: string): string[] {
  return text.toLowerCase().match(/\p{L}+(?:['’-]\p{L}+)*/gu) ?? [];
}

// Function words: they carry no topic. (A short list of our own, not a copy of another's.)
export const STOPWORDS: ReadonlySet<string> = new Set(`a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or
other our ours ourselves out over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves also really quite much many one get got like think feel make made way thing things
well even still yes yeah im ive id dont cant wont isnt thats`.split(/\s+/));

// Porter stems are pure: memoised, bounded so a huge corpus cannot grow the table forever.
const stemCache = new Map<string, string>();

/** Content stems of a text: rouge-score tokens minus stopwords, Porter-stemmed when longer than 3 characters. */
export function contentStems(text: string): string[] {
  const out: string[] = [];
  for (const t of text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').split(' ')) {
    if (t.length < 3 || STOPWORDS.has(t) || /^\d+$/.test(t)) continue;
    if (t.length <= 3) {
      out.push(t);
      continue;
    }
    let stem = stemCache.get(t);
    if (stem === undefined) {
      stem = porterStem(t);
      if (stemCache.size >= 100_000) stemCache.clear();
      stemCache.set(t, stem);
    }
    out.push(stem);
  }
  return out;
}
