import { toByteLevel } from './vocab.js';

/**
 * A small, deterministic byte-level BPE trainer (the algorithm of Sennrich et al. / GPT-2, as HF
 * `tokenizers`' BpeTrainer runs it): split text with the GPT-2 pre-tokenizer regex (the one the
 * `ByteLevel` pre-tokenizer applies, so merges never cross the boundaries the tokenizer will
 * see), spell each piece in the byte-level alphabet, then repeatedly merge the most frequent
 * adjacent pair. Ties break by the pair's spelling (code-unit order), so the same texts always
 * give the same merges. Cost: O(merges × distinct-piece characters); fine for corpora of a few MB.
 */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface BpeTrainOptions {
  /** A pair must occur at least this often to be merged (default 2). */
  minFrequency?: number;
}

/** Learns up to `numMerges` merges; returns them in rank order as [left, right] token spellings. */
export function trainByteLevelBpe(texts: Iterable<string>, numMerges: number, options: BpeTrainOptions = {}): Array<[string, string]> {
  const minFrequency = options.minFrequency ?? 2;
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const match of text.matchAll(GPT2_SPLIT)) {
      const piece = toByteLevel(match[0]);
      counts.set(piece, (counts.get(piece) ?? 0) + 1);
    }
  }
  // Each distinct piece as a token list; sorted so iteration order is fixed.
  const words = [...counts.keys()].sort().map((w) => ({ tokens: Array.from(w), count: counts.get(w)! }));
  const merges: Array<[string, string]> = [];
  for (let m = 0; m < numMerges; m++) {
    const pairCounts = new Map<string, number>();
    for (const { tokens, count } of words) {
      for (let i = 0; i + 1 < tokens.length; i++) {
        const key = `${tokens[i]}\u0000${tokens[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, c] of pairCounts) {
      if (c > bestCount || (c === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = c;
      }
    }
    if (best === undefined || bestCount < minFrequency) break;
    const [left, right] = best.split('\u0000') as [string, string];
    merges.push([left, right]);
    const joined = left + right;
    for (const word of words) {
      const t = word.tokens;
      if (t.length < 2) continue;
      const out: string[] = [];
      for (let i = 0; i < t.length; i++) {
        if (i + 1 < t.length && t[i] === left && t[i + 1] === right) {
          out.push(joined);
          i++;
        } else out.push(t[i]!);
      }
      word.tokens = out;
    }
  }
  return merges;
}
