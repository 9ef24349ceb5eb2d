/**
 * Next-token choice from one row of logits, with Hugging Face's meanings:
 * greedy (do_sample false or temperature 0) or sampling from softmax(logits / temperature)
 * restricted to the top_k most likely tokens (0 = no limit) and then to the smallest set whose
 * probability reaches top_p (1 = no limit). Random draws come from a seeded Prng only.
 */
import type { Prng } from '../../core/prng.js';
import { InternalError } from '../../core/errors.js';

export interface SamplingOptions {
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
}

export const GREEDY: SamplingOptions = { doSample: false, temperature: 1, topK: 0, topP: 1 };

export function checkSampling(o: SamplingOptions): void {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) throw new InternalError(`temperature must be ≥ 0, got ${o.temperature}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new InternalError(`top_p must be in (0, 1], got ${o.topP}`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new InternalError(`top_k must be a non-negative integer, got ${o.topK}`);
}

/** Index of the largest logit (lowest index on ties). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/**
 * Tokens whose logit is this many temperature units below the best have probability < e^-30
 * (≈ 1e-13) of the best: they are left out of top-k / top-p candidate lists, so only a short
 * list is sorted instead of the whole vocabulary.
 */
const NEGLIGIBLE = 30;

/** Chooses the next token id from `logits` [V]. */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, prng: Prng): number {
  if (!options.doSample || options.temperature === 0) return argmax(logits);
  const V = logits.length, T = options.temperature;
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i]! > max) max = logits[i]!;
  if (options.topK === 0 && options.topP >= 1) {
    // Plain temperature sampling: no ordering needed, draw over ids in index order.
    const probs = new Float64Array(V);
    let total = 0;
    for (let i = 0; i < V; i++) total += probs[i] = Math.exp((logits[i]! - max) / T);
    return drawIndex(probs, V, total, prng);
  }
  // Candidates sorted by logit, descending; ties by id so the order is deterministic.
  const order: number[] = [];
  for (let i = 0; i < V; i++) if ((logits[i]! - max) / T > -NEGLIGIBLE) order.push(i);
  order.sort((a, b) => logits[b]! - logits[a]! || a - b);
  const k = options.topK > 0 ? Math.min(options.topK, order.length) : order.length;
  const probs = new Float64Array(k);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += probs[i] = Math.exp((logits[order[i]!]! - max) / T);
  let keep = k;
  if (options.topP < 1) {
    let cum = 0;
    for (let i = 0; i < k; i++) {
      cum += probs[i]! / sum;
      if (cum >= options.topP) {
        keep = i + 1;
        break;
      }
    }
  }
  let total = 0;
  for (let i = 0; i < keep; i++) total += probs[i]!;
  return order[drawIndex(probs, keep, total, prng)]!;
}

/** Index i < n drawn with probability weights[i] / total. */
function drawIndex(weights: Float64Array, n: number, total: number, prng: Prng): number {
  let r = prng.next() * total;
  for (let i = 0; i < n; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return n - 1;
}
