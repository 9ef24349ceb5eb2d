import { closest } from '../registry.js';

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

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
