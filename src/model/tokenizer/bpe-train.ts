import { toByteLevel } from './vocab.js';

/**
 * A small, deterministic byte-level BPE trainer (the algorithm of Sennrich et al. / GPT-2, as HF
 * `tokenizers`' BpeTrainer runs it): split text with the GPT-2 pre-tokenizer regex (the one the
 * `ByteLevel` pre-tokenizer applies, so merges never cross the boundaries the tokenizer will
 * see), spell each piece in the byte-level alphabet, then repeatedly merge the most frequent
 * adjacent pair. Ties break by the pair's spelling (code-unit order), so the same texts always
 * give the same merges. Pair counts are updated incrementally (only the words that hold the merged
 * pair are touched), so a merge costs a scan of the pair table plus the affected words.
 */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface BpeTrainOptions {
  /** A pair must occur at least this often to be merged (default 2). */
  minFrequency?: number;
}

/** Learns up to `numMerges` merges; returns them in rank order as [left, right] token spellings. */
export function trainByteLevelBpe(texts: Iterable<string>, numMerges: number, options: BpeTrainOptions = {}): Array<[string, string]> {
  const minFrequency = options.minFrequency ?? 2;
  const pieceCounts = new Map<string, number>();
  for (const text of texts) {
    for (const match of text.matchAll(GPT2_SPLIT)) {
      const piece = toByteLevel(match[0]);
      pieceCounts.set(piece, (pieceCounts.get(piece) ?? 0) + 1);
    }
  }
  // Tokens are ids into `spell`; one id per spelling (two merge paths to "abc" give one token).
  const spell: string[] = [];
  const idOf = new Map<string, number>();
  const tokenId = (text: string): number => {
    let id = idOf.get(text);
    if (id === undefined) {
      id = spell.length;
      spell.push(text);
      idOf.set(text, id);
    }
    return id;
  };
  const pieces = [...pieceCounts.keys()].sort();
  const words = pieces.map((w) => Array.from(w, tokenId));
  const wordCounts = pieces.map((w) => pieceCounts.get(w)!);

  // Pair statistics, updated incrementally: only words holding the merged pair change.
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1) => {
    const t = words[w]!;
    const c = wordCounts[w]! * sign;
    for (let i = 0; i + 1 < t.length; i++) {
      const k = pairKey(t[i]!, t[i + 1]!);
      const n = (pairCounts.get(k) ?? 0) + c;
      if (n === 0) pairCounts.delete(k);
      else pairCounts.set(k, n);
      if (sign > 0) {
        let set = pairWords.get(k);
        if (!set) pairWords.set(k, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);
  const spelled = (k: number) => `${spell[Math.floor(k / PAIR_BASE)]}\u0000${spell[k % PAIR_BASE]}`;

  const merges: Array<[string, string]> = [];
  for (let m = 0; m < numMerges; m++) {
    let best = -1;
    let bestCount = 0;
    let bestSpelled: string | undefined;
    for (const [k, c] of pairCounts) {
      if (c > bestCount) {
        best = k;
        bestCount = c;
        bestSpelled = undefined;
      } else if (c === bestCount) {
        bestSpelled ??= spelled(best);
        const s = spelled(k);
        if (s < bestSpelled) {
          best = k;
          bestSpelled = s;
        }
      }
    }
    if (best < 0 || bestCount < minFrequency) break;
    const left = Math.floor(best / PAIR_BASE);
    const right = best % PAIR_BASE;
    merges.push([spell[left]!, spell[right]!]);
    const joined = tokenId(spell[left]! + spell[right]!);
    for (const w of pairWords.get(best) ?? []) {
      const t = words[w]!;
      const out: number[] = [];
      let changed = false;
      for (let i = 0; i < t.length; i++) {
        if (i + 1 < t.length && t[i] === left && t[i + 1] === right) {
          out.push(joined);
          i++;
          changed = true;
        } else out.push(t[i]!);
      }
      if (!changed) continue; // stale entry: the word lost this pair to an earlier merge
      addPairs(w, -1);
      words[w] = out;
      addPairs(w, 1);
    }
    pairWords.delete(best);
  }
  return merges;
}

/** Pair (a, b) of token ids as one number; ids stay far below 2^20. */
const PAIR_BASE = 1 << 20;
function pairKey(a: number, b: number): number {
  return a * PAIR_BASE + b;
}
