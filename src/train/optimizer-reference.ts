/**
 * The optimizer's element loops as straightforward float64 JavaScript: the specification the
 * WebAssembly kernels (optimizer-wasm.ts) must match bit for bit (test/train/optimizer-wasm.test.ts)
 * and the old side of `npm run bench -- optimizer`. These were the trainer's loops until the kernels
 * replaced them; the committed lock files were made with them.
 */
import type { AdamWArguments } from './arguments.js';

/** g ← f32(g / tokens) in place, and the global norm √Σ g² (float64, in element order). */
export function scaleAndNormReference(grads: Float32Array[], tokens: number): number {
  let ss = 0;
  for (const g of grads)
    for (let i = 0; i < g.length; i++) {
      const x = Math.fround(g[i]! / tokens); // the float32 the array holds, as globalNorm would read it
      g[i] = x;
      ss += x * x;
    }
  return Math.sqrt(ss);
}

/** Clipping to maxNorm fused with the AdamW update of each tensor (see clipAndUpdate). */
export function clipAndUpdateReference(params: Float32Array[], grads: Float32Array[], moments: Array<{ m: Float32Array; v: Float32Array }>, decay: boolean[], norm: number, maxNorm: number, t: number, lr: number, args: AdamWArguments): void {
  const coef = maxNorm > 0 ? maxNorm / (norm + 1e-6) : 1;
  const clip = coef < 1;
  const { adam_beta1: beta1, adam_beta2: beta2, adam_epsilon: eps } = args;
  const bc1 = 1 - beta1 ** t;
  const bc2 = 1 - beta2 ** t;
  for (let k = 0; k < params.length; k++) {
    const param = params[k]!, grad = grads[k]!, { m, v } = moments[k]!;
    const decayFactor = 1 - lr * (decay[k] ? args.weight_decay : 0);
    for (let i = 0; i < param.length; i++) {
      const g = clip ? Math.fround(grad[i]! * coef) : grad[i]!; // as clipGradients stores it
      if (clip) grad[i] = g;
      const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * g);
      const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * g * g);
      param[i] = param[i]! * decayFactor - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
    }
  }
}

/** acc += x, element-wise. */
export function addIntoReference(acc: Float32Array, x: Float32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + x[i]!;
}
