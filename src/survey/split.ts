import { UserError } from '../core/errors.js';
import { Prng } from '../core/prng.js';
import { integerMatrix, largestRemainder } from './quotas.js';

export const SPLITS = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

export interface SplitItem {
  id: string;
  /** Stratum key, e.g. `finance|likert`. */
  stratum: string;
  /** Group that must stay in one split (persona id) when splitting persona-disjoint. */
  group: string;
}

/**
 * Stratified split: the split sizes are the largest-remainder counts of the ratios over all items
 * (exact 80/10/10 overall), and each domain × question-type cell gets counts with those column sums
 * and its own size as row sum, as close to proportional as integers allow (integerMatrix). Rounding
 * each cell on its own would not do: with ~3 items per cell (small runs) every cell rounds its odd
 * item into train and val/test end up nearly empty. Cells are visited in a seeded order, so which
 * cells give their odd item to val or test is random, not alphabetical; within a cell, items are
 * shuffled with a substream named by the cell.
 *
 * Persona-disjoint: whole groups go to one split. Groups are shuffled, then placed largest first
 * into the split furthest below its record target (relative deficit), ties broken by the group's
 * stratum deficits: split sizes stay close to the ratios, strata only approximately balanced.
 */
export function stratifiedSplit(items: readonly SplitItem[], ratios: Record<SplitName, number>, seed: number, personaDisjoint: boolean): Map<string, SplitName> {
  const weights = SPLITS.map((s) => ratios[s]);
  if (weights.some((w) => !(w >= 0)) || weights.reduce((a, b) => a + b, 0) <= 0) throw new UserError('invalid-params', 'split ratios must be non-negative and not all zero');
  const prng = new Prng(seed);
  const out = new Map<string, SplitName>();
  const strata = new Map<string, SplitItem[]>();
  for (const it of items) (strata.get(it.stratum) ?? strata.set(it.stratum, []).get(it.stratum)!).push(it);
  if (!personaDisjoint) {
    const keys = prng.fork('strata').shuffle([...strata.keys()].sort());
    const cells = integerMatrix(
      keys.map((k) => strata.get(k)!.length),
      largestRemainder(weights, items.length),
      keys.map(() => weights.map((w) => w > 0)),
      { rows: keys, cols: [...SPLITS] },
    );
    keys.forEach((key, r) => {
      const members = prng.fork(`stratum\u0000${key}`).shuffle([...strata.get(key)!]);
      let k = 0;
      SPLITS.forEach((s, i) => { for (let j = 0; j < cells[r]![i]!; j++) out.set(members[k++]!.id, s); });
    });
    return out;
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const target = new Map<string, number[]>();
  for (const [key, members] of strata) target.set(key, weights.map((w) => (w / total) * members.length));
  const have = new Map<string, number[]>([...strata.keys()].map((k) => [k, [0, 0, 0]]));
  const splitTarget = weights.map((w) => (w / total) * items.length);
  const splitHave = [0, 0, 0];
  const groups = new Map<string, SplitItem[]>();
  for (const it of items) (groups.get(it.group) ?? groups.set(it.group, []).get(it.group)!).push(it);
  const order = prng.fork('groups').shuffle([...groups.keys()].sort());
  order.sort((a, b) => groups.get(b)!.length - groups.get(a)!.length); // stable: ties keep the shuffle
  for (const g of order) {
    const members = groups.get(g)!;
    // Primary: the split furthest below its record target (relative); tie-break: the group's strata.
    let best = -1, bestScore = -Infinity;
    SPLITS.forEach((_, si) => {
      if (weights[si] === 0) return;
      let strataScore = 0;
      for (const m of members) strataScore += target.get(m.stratum)![si]! - have.get(m.stratum)![si]!;
      const score = (splitTarget[si]! - splitHave[si]!) / splitTarget[si]! + 1e-3 * strataScore;
      if (score > bestScore) { bestScore = score; best = si; }
    });
    for (const m of members) {
      out.set(m.id, SPLITS[best]!);
      have.get(m.stratum)![best]!++;
    }
    splitHave[best]! += members.length;
  }
  return out;
}
