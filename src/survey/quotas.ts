import { InternalError, UserError } from '../core/errors.js';

/**
 * Largest-remainder (Hamilton) apportionment: integer counts proportional to `weights` that sum
 * to exactly `total`. Ties in the remainders go to the lower index, so the result is a pure
 * function of its inputs.
 */
export function largestRemainder(weights: readonly number[], total: number): number[] {
  if (!Number.isInteger(total) || total < 0) throw new InternalError(`largestRemainder: total must be a non-negative integer, got ${total}`);
  const sum = weights.reduce((a, b) => a + b, 0);
  if (weights.some((w) => !(w >= 0) || !Number.isFinite(w))) throw new InternalError(`largestRemainder: weights must be finite and non-negative`);
  if (total === 0) return weights.map(() => 0);
  if (sum <= 0) throw new InternalError('largestRemainder: all weights are zero');
  const exact = weights.map((w) => (w * total) / sum);
  const counts = exact.map((x) => Math.floor(x + 1e-9));
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - counts[i]! })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length) {
    if (weights[order[k]!.i]! > 0) {
      counts[order[k]!.i]!++;
      left--;
    }
  }
  return counts;
}

/**
 * An integer matrix with exact row sums and column sums, zero wherever `allowed` is false, close
 * to the proportional fit: raking of the allowed-cell indicator to the margins, then
 * largest-remainder rounding of each row, then unit moves between columns within a row until the
 * column sums are exact (each move picks the row whose rounding error it reduces most).
 */
export function integerMatrix(rowSums: readonly number[], colSums: readonly number[], allowed: ReadonlyArray<readonly boolean[]>, names: { rows: readonly string[]; cols: readonly string[] }): number[][] {
  const R = rowSums.length, C = colSums.length;
  const totalR = rowSums.reduce((a, b) => a + b, 0), totalC = colSums.reduce((a, b) => a + b, 0);
  if (totalR !== totalC) throw new InternalError(`integerMatrix: row sums ${totalR} != column sums ${totalC}`);
  for (let c = 0; c < C; c++) {
    if (colSums[c]! > 0 && !allowed.some((row, r) => row[c] && rowSums[r]! > 0)) {
      throw new UserError('quotas', `quota asks for ${colSums[c]} "${names.cols[c]}" records but no domain with records has such items`);
    }
  }
  for (let r = 0; r < R; r++) {
    if (rowSums[r]! > 0 && !allowed[r]!.some((a, c) => a && colSums[c]! > 0)) {
      throw new UserError('quotas', `domain "${names.rows[r]}" needs ${rowSums[r]} records but has no items of a requested type`);
    }
  }
  const m: number[][] = allowed.map((row) => row.map((a) => (a ? 1 : 0)));
  for (let iter = 0; iter < 500; iter++) {
    for (let r = 0; r < R; r++) {
      const s = m[r]!.reduce((a, b) => a + b, 0);
      if (s > 0) for (let c = 0; c < C; c++) m[r]![c] = (m[r]![c]! * rowSums[r]!) / s;
    }
    let worst = 0;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let r = 0; r < R; r++) s += m[r]![c]!;
      if (s > 0) for (let r = 0; r < R; r++) m[r]![c] = (m[r]![c]! * colSums[c]!) / s;
      worst = Math.max(worst, Math.abs(s - colSums[c]!));
    }
    if (worst < 1e-9) break;
  }
  const out = m.map((row, r) => largestRemainder(row, rowSums[r]!));
  const colDiff = (c: number): number => out.reduce((a, row) => a + row[c]!, 0) - colSums[c]!;
  for (;;) {
    const over = [...Array(C).keys()].find((c) => colDiff(c) > 0);
    if (over === undefined) break;
    const under = [...Array(C).keys()].find((c) => colDiff(c) < 0)!;
    let best = -1, bestGain = -Infinity;
    for (let r = 0; r < R; r++) {
      if (out[r]![over]! <= 0 || !allowed[r]![under]) continue;
      const gain = (m[r]![under]! - out[r]![under]!) - (m[r]![over]! - out[r]![over]!);
      if (gain > bestGain) { bestGain = gain; best = r; }
    }
    if (best < 0) throw new UserError('quotas', `cannot meet the "${names.cols[under]}" quota with this bank: no domain can trade a "${names.cols[over]}" record for one`);
    out[best]![over]!--;
    out[best]![under]!++;
  }
  return out;
}
