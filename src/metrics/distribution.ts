/**
 * Distribution fidelity (RQ2): per closed question, the answers across personas in the
 * predictions against those in the references, on the item's ordinal scale 1..K.
 *
 *   wasserstein   W1 = sum_{k=1}^{K-1} |F_pred(k) - F_ref(k)|   (in scale points; 0 .. K-1)
 *   jsd           Jensen–Shannon divergence, base 2 (0 .. 1), 0·log 0 = 0
 *   variance_ratio var(pred) / var(ref), population variances; 1 when both are 0, null when only
 *                 the reference has no spread (ratio unbounded). < 1 shows regression to the mean.
 */

export interface QuestionDistribution {
  points: number;
  n_pred: number;
  n_ref: number;
  /** Counts per level 1..K. */
  pred_hist: number[];
  ref_hist: number[];
  wasserstein: number | null;
  jsd: number | null;
  variance_ratio: number | null;
}

export function histogram(levels: readonly number[], points: number): number[] {
  const h = new Array<number>(points).fill(0);
  for (const l of levels) if (l >= 1 && l <= points) h[l - 1]!++;
  return h;
}

function normalise(h: readonly number[]): number[] {
  const total = h.reduce((a, b) => a + b, 0);
  return h.map((c) => c / total);
}

/** W1 between two histograms on levels 1..K with unit spacing. */
export function wasserstein1(a: readonly number[], b: readonly number[]): number {
  const p = normalise(a);
  const q = normalise(b);
  let fp = 0;
  let fq = 0;
  let w = 0;
  for (let k = 0; k < p.length - 1; k++) {
    fp += p[k]!;
    fq += q[k]!;
    w += Math.abs(fp - fq);
  }
  return w;
}

/** Jensen–Shannon divergence in bits between two histograms. */
export function jensenShannon(a: readonly number[], b: readonly number[]): number {
  const p = normalise(a);
  const q = normalise(b);
  let js = 0;
  for (let k = 0; k < p.length; k++) {
    const m = (p[k]! + q[k]!) / 2;
    if (p[k]! > 0) js += 0.5 * p[k]! * Math.log2(p[k]! / m);
    if (q[k]! > 0) js += 0.5 * q[k]! * Math.log2(q[k]! / m);
  }
  return Math.max(0, js);
}

function variance(h: readonly number[]): number {
  const n = h.reduce((a, b) => a + b, 0);
  let mean = 0;
  for (let k = 0; k < h.length; k++) mean += (k + 1) * h[k]!;
  mean /= n;
  let v = 0;
  for (let k = 0; k < h.length; k++) v += h[k]! * (k + 1 - mean) ** 2;
  return v / n;
}

export function varianceRatio(pred: readonly number[], ref: readonly number[]): number | null {
  const vp = variance(pred);
  const vr = variance(ref);
  if (vr === 0) return vp === 0 ? 1 : null;
  return vp / vr;
}

/** Compares the answer levels of one question. Metrics are null when either side has no answers. */
export function compareDistributions(predLevels: readonly number[], refLevels: readonly number[], points: number): QuestionDistribution {
  const ph = histogram(predLevels, points);
  const rh = histogram(refLevels, points);
  const nP = ph.reduce((a, b) => a + b, 0);
  const nR = rh.reduce((a, b) => a + b, 0);
  const ok = nP > 0 && nR > 0;
  return {
    points,
    n_pred: nP,
    n_ref: nR,
    pred_hist: ph,
    ref_hist: rh,
    wasserstein: ok ? wasserstein1(ph, rh) : null,
    jsd: ok ? jensenShannon(ph, rh) : null,
    variance_ratio: ok ? varianceRatio(ph, rh) : null,
  };
}
