import { UserError } from '../core/errors.js';

/**
 * Raking (iterative proportional fitting, Deming & Stephan 1940): weights for a sample so that
 * its weighted category shares match target marginals on several variables at once.
 *
 * rows: one record per sample unit, `rows[i][variable] = category`.
 * targets: `targets[variable][category] = share` (each variable's shares sum to 1).
 * Each sweep rescales the weights of every category of one variable so its weighted share hits the
 * target; sweeps repeat until the largest absolute share error is below `tolerance`.
 */
export interface RakeResult {
  /** Non-negative weights, mean 1. */
  weights: Float64Array;
  iterations: number;
  converged: boolean;
  /** Largest |weighted share - target| over all variables and categories after the last sweep. */
  maxError: number;
}

export function rake(
  rows: ReadonlyArray<Record<string, string>>,
  targets: Record<string, Record<string, number>>,
  options: { maxIterations?: number; tolerance?: number; initialWeights?: ArrayLike<number> } = {},
): RakeResult {
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-6;
  const n = rows.length;
  if (n === 0) throw new UserError('raking', 'raking needs at least one sample row');
  const variables = Object.keys(targets).sort();
  for (const v of variables) {
    const shares = targets[v]!;
    const total = Object.values(shares).reduce((a, b) => a + b, 0);
    if (Object.values(shares).some((s) => !(s >= 0)) || Math.abs(total - 1) > 1e-6) {
      throw new UserError('raking', `target marginals for "${v}" must be non-negative shares summing to 1 (sum ${total})`);
    }
    const present = new Set(rows.map((r) => r[v]));
    for (const cat of present) {
      if (cat === undefined || !(cat in shares)) throw new UserError('raking', `sample has "${v}=${String(cat)}", which the targets for "${v}" do not list`);
    }
    for (const [cat, share] of Object.entries(shares)) {
      if (share > 0 && !present.has(cat)) throw new UserError('raking', `target "${v}=${cat}" has share ${share} but no sampled unit has that category`);
    }
  }
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = options.initialWeights ? Number(options.initialWeights[i]) : 1;
  let maxError = Infinity;
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    for (const v of variables) {
      const sums = new Map<string, number>();
      let total = 0;
      for (let i = 0; i < n; i++) {
        const c = rows[i]![v]!;
        sums.set(c, (sums.get(c) ?? 0) + w[i]!);
        total += w[i]!;
      }
      for (let i = 0; i < n; i++) {
        const c = rows[i]![v]!;
        const have = sums.get(c)! / total;
        w[i] = have > 0 ? (w[i]! * targets[v]![c]!) / have : 0;
      }
    }
    maxError = marginalError(rows, w, targets);
    if (maxError < tolerance) break;
  }
  // Normalise to mean 1 so weights read as "how many units this one stands for".
  const sum = w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) w[i] = (w[i]! * n) / sum;
  return { weights: w, iterations, converged: maxError < tolerance, maxError };
}

/** Largest absolute difference between weighted shares and targets. */
export function marginalError(rows: ReadonlyArray<Record<string, string>>, w: ArrayLike<number>, targets: Record<string, Record<string, number>>): number {
  let total = 0;
  for (let i = 0; i < rows.length; i++) total += w[i]!;
  let worst = 0;
  for (const [v, shares] of Object.entries(targets)) {
    const sums = new Map<string, number>();
    for (let i = 0; i < rows.length; i++) sums.set(rows[i]![v]!, (sums.get(rows[i]![v]!) ?? 0) + w[i]!);
    for (const [cat, share] of Object.entries(shares)) worst = Math.max(worst, Math.abs((sums.get(cat) ?? 0) / total - share));
  }
  return worst;
}
