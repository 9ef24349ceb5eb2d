/**
 * Next-token choice from one row of logits, with Hugging Face's meanings:
 * greedy (do_sample false or temperature 0) or sampling from softmax(logits / temperature)
 * restricted to the top_k most likely tokens (0 = no limit) and then to the smallest set whose
 * probability reaches top_p (1 = no limit). Random draws come from a seeded Prng only.
 *
 * The draw is Gumbel-max: token = argmax over the candidates of (logit - max) / T + G_id, where
 * G_id is Gumbel noise keyed by (one uint32 drawn per step, token id). That is an exact sample of
 * the same distribution, and it survives float noise: logits that differ in the last bits (another
 * CPU's or thread count's onnxruntime reductions) change the chosen token only when the two best
 * noisy scores are within that noise, ~1e-6 per step, where an inverse-CDF draw over a list sorted
 * by probability flips whenever two near-tied tokens swap places (often, on a flat distribution).
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
  const stepSeed = prng.nextU32();
  if (options.topK === 0 && options.topP >= 1) {
    // Plain temperature sampling: every non-negligible token is a candidate, no ordering needed.
    let best = -1, bestScore = -Infinity;
    for (let i = 0; i < V; i++) {
      const z = (logits[i]! - max) / T;
      if (z <= -NEGLIGIBLE) continue;
      const score = z + gumbel(stepSeed, i);
      if (score > bestScore) (best = i), (bestScore = score);
    }
    return best;
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
  let best = -1, bestScore = -Infinity;
  for (let j = 0; j < keep; j++) {
    const id = order[j]!;
    const score = (logits[id]! - max) / T + gumbel(stepSeed, id);
    if (score > bestScore || (score === bestScore && id < best)) (best = id), (bestScore = score);
  }
  return best;
}

/** Standard Gumbel noise -log(-log(u)) with u in (0, 1) from a hash of (step seed, token id). */
function gumbel(stepSeed: number, id: number): number {
  // murmur3's fmix32 over the seed and the id spread by the golden ratio (a counter-based draw:
  // token id's noise does not depend on which other tokens are candidates).
  let h = (stepSeed ^ Math.imul(id + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  h = (h ^ (h >>> 15)) >>> 0;
  const u = (h + 0.5) / 4294967296;
  return -Math.log(-Math.log(u));
}
