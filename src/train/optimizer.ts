/**
 * AdamW (decoupled weight decay, as torch.optim.AdamW), learning-rate schedules (as transformers'
 * get_*_schedule_with_warmup) and global-norm gradient clipping (as torch's clip_grad_norm_).
 * Parameters are float32 (what the graph consumes); the update runs in float64 per element and
 * rounds back, so results are the same on every machine.
 */
import { InternalError } from '../core/errors.js';
import type { AdamWArguments, SchedulerType } from './arguments.js';
import { addIntoReference, clipAndUpdateReference, scaleAndNormReference } from './optimizer-reference.js';
import { addIntoWasm, adamWTensor, scaleAndSumSquares, wasmKernelsAvailable, type AdamWStepConstants } from './optimizer-wasm.js';

export type { SchedulerType } from './arguments.js';
/** First and second moments of one parameter tensor. */
export interface AdamWMoments {
  m: Float32Array;
  v: Float32Array;
}

export function adamWMoments(size: number): AdamWMoments {
  return { m: new Float32Array(size), v: new Float32Array(size) };
}

/**
 * One AdamW update of `param` in place; `t` is the 1-based update count, `lr` this step's rate.
 * p ← p − lr·wd·p; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; p ← p − lr·m̂ / (√v̂ + ε).
 */
export function adamWUpdate(param: Float32Array, grad: Float32Array, state: AdamWMoments, t: number, lr: number, args: AdamWArguments): void {
  const { adam_beta1: beta1, adam_beta2: beta2, adam_epsilon: eps, weight_decay: weightDecay } = args;
  const bc1 = 1 - beta1 ** t;
  const bc2 = 1 - beta2 ** t;
  const decay = 1 - lr * weightDecay;
  const { m, v } = state;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]!;
    const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * g);
    const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * g * g);
    param[i] = param[i]! * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
  }
}

/**
 * The first pass of an optimizer step over summed gradients: g ← g / tokens (rounded to float32,
 * in place) and the global norm √Σ g² (float64), in one sweep. Same values as dividing and then
 * calling globalNorm. On the WebAssembly kernels (optimizer-wasm.ts): the float64 JavaScript loop's
 * results bit for bit (optimizer-reference.ts).
 */
export function scaleAndNorm(grads: Float32Array[], tokens: number): number {
  if (!wasmKernelsAvailable()) return scaleAndNormReference(grads, tokens);
  return Math.sqrt(scaleAndSumSquares(grads, tokens, 0));
}

/**
 * The second pass: clipping to maxNorm (as clipGradients) fused with the AdamW update of each
 * tensor (as adamWUpdate), one sweep over the gradients instead of two: the same float32 results,
 * bit for bit (the clipped gradient is rounded to float32 before the update reads it).
 * `decay[i]`: whether tensor i takes weight decay. On the WebAssembly kernels, bit for bit the
 * float64 JavaScript loop (clipAndUpdateReference).
 */
export function clipAndUpdate(params: Float32Array[], grads: Float32Array[], moments: AdamWMoments[], decay: boolean[], norm: number, maxNorm: number, t: number, lr: number, args: AdamWArguments): void {
  if (!wasmKernelsAvailable()) return clipAndUpdateReference(params, grads, moments, decay, norm, maxNorm, t, lr, args);
  const coef = maxNorm > 0 ? maxNorm / (norm + 1e-6) : 1;
  const { adam_beta1: beta1, adam_beta2: beta2, adam_epsilon: eps } = args;
  const step: AdamWStepConstants = { clip: coef < 1, coef, beta1, beta2, c1: 1 - beta1, c2: 1 - beta2, bc1: 1 - beta1 ** t, bc2: 1 - beta2 ** t, lr, eps };
  for (let k = 0; k < params.length; k++) {
    const param = params[k]!, grad = grads[k]!, { m, v } = moments[k]!;
    if (grad.length !== param.length || m.length !== param.length || v.length !== param.length)
      throw new InternalError(`clipAndUpdate: tensor ${k} has ${param.length} elements but its gradient ${grad.length}, moments ${m.length} and ${v.length}`);
    adamWTensor(param, grad, m, v, 1 - lr * (decay[k] ? args.weight_decay : 0), step);
  }
}

/** acc += x, element-wise (gradient accumulation; float32 sums, on the WebAssembly kernels). */
export function addInto(acc: Float32Array, x: Float32Array): void {
  if (x.length !== acc.length) throw new InternalError(`addInto: ${x.length} elements added to ${acc.length}`);
  if (wasmKernelsAvailable()) addIntoWasm(acc, x);
  else addIntoReference(acc, x);
}

/** √Σ g² over every tensor (float64 accumulation). */
export function globalNorm(grads: Float32Array[]): number {
  let ss = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) ss += g[i]! * g[i]!;
  return Math.sqrt(ss);
}

/** Scales gradients so their global norm is at most maxNorm (coefficient maxNorm / (norm + 1e-6), capped at 1). */
export function clipGradients(grads: Float32Array[], norm: number, maxNorm: number): void {
  if (!(maxNorm > 0)) return;
  const coef = maxNorm / (norm + 1e-6);
  if (coef >= 1) return;
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
}

/** Number of warmup steps for a ratio (transformers: ceil(ratio · total)). */
export function warmupSteps(total: number, ratio: number): number {
  return Math.ceil(total * ratio);
}

/** Learning rate of the optimizer step `step` (0-based) of `total`. */
export function learningRate(type: SchedulerType, base: number, step: number, total: number, warmup: number): number {
  if (type === 'constant') return base;
  if (step < warmup) return (base * step) / Math.max(1, warmup);
  const progress = (step - warmup) / Math.max(1, total - warmup);
  switch (type) {
    case 'constant_with_warmup':
      return base;
    case 'linear':
      return base * Math.max(0, 1 - progress);
    case 'cosine':
      return base * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
  }
}
