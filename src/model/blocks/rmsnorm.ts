/**
 * RMSNorm, llama's norm kind, as a forward/backward pair (llm.c style: the forward returns what
 * its backward needs; the backward takes the output gradient first, then the saved values).
 * Over the last axis of x [N, C]:
 *
 *   y = x̂ ⊙ g,  x̂ = x · r,  r = (mean(x²) + eps)^(−1/2)        r: [N, 1], g: [C]
 */
import type { GraphBuilder } from '../onnx/builder.js';

export interface RmsNormSaved {
  xhat: string; // [N, C] x · r
  rinv: string; // [N, 1] r = 1 / rms
  gain: string; // [C]
}

/** y [N, C] and the values the backward needs. */
export function rmsNormForward(g: GraphBuilder, x: string, gain: string, eps: number): { y: string; saved: RmsNormSaved } {
  const ms = g.reduceMean(g.mul(x, x), [-1]);
  const rinv = g.op('Reciprocal', [g.op('Sqrt', [g.add(ms, g.constFloat([eps]))])]);
  const xhat = g.mul(x, rinv);
  return { y: g.mul(xhat, gain), saved: { xhat, rinv, gain } };
}

/**
 * dx = r · (dx̂ − x̂ · mean(dx̂ ⊙ x̂)) with dx̂ = dy ⊙ g, for dy [N, C]. With `gainGrad` also
 * dg = Σ_rows dy ⊙ x̂ [C] (full fine-tuning trains the gain).
 */
export function rmsNormBackward(g: GraphBuilder, dy: string, s: RmsNormSaved, options: { gainGrad?: boolean } = {}): { dx: string; dGain?: string } {
  const dGain = options.gainGrad ? g.op('ReduceSum', [g.mul(dy, s.xhat), g.constInt64([0])], { keepdims: 0 }) : undefined;
  const dxhat = g.mul(dy, s.gain);
  const m = g.reduceMean(g.mul(dxhat, s.xhat), [-1]);
  return { dx: g.mul(g.sub(dxhat, g.mul(s.xhat, m)), s.rinv), dGain };
}
