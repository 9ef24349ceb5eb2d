import { closest, editDistance } from '../registry.js';

/**
 * A did-you-mean candidate for `word`: registry's `closest`, minus matches that share nothing
 * with the word (for `zz`, `a` is within edit distance 2 but is no suggestion).
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const near = closest(word, candidates);
  if (near === undefined) return undefined;
  return editDistance(word, near) < Math.max(word.length, near.length) ? near : undefined;
}

/** `(did you mean X?)` with a leading space, or ''. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const near = suggest(word, candidates);
  return near === undefined ? '' : ` (did you mean ${near}?)`;
}
