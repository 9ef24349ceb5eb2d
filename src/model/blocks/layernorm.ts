/**
 * LayerNorm with a bias, phi's norm kind, as a forward/backward pair (the same shape as
 * rmsnorm.ts). Over the last axis of x [N, C]:
 *
 *   y = x̂ ⊙ g + b,  x̂ = (x − μ) · r,  μ = mean(x),  r = (mean((x − μ)²) + eps)^(−1/2)
 *
 * with r: [N, 1], g and b: [C]. The forward is ONNX's LayerNormalization (opset 17) with a unit
 * scale, so x̂ and r (its InvStdDev output) come from one fused kernel; gain and bias follow.
 */
import type { GraphBuilder } from '../onnx/builder.js';

export interface LayerNormSaved {
  xhat: string; // [N, C] (x − μ) · r
  rinv: string; // [N, 1] r
  gain: string; // [C]
}

/** y [N, C] and the values the backward needs; C sizes the unit scale. */
export function layerNormForward(g: GraphBuilder, x: string, gain: string, bias: string, eps: number, C: number): { y: string; saved: LayerNormSaved } {
  const ones = g.constFloat(new Array<number>(C).fill(1), [C]);
  const [xhat, , rinv] = g.op('LayerNormalization', [x, ones], { axis: -1, epsilon: eps }, { outputs: 3 }) as [string, string, string];
  return { y: g.add(g.mul(xhat, gain), bias), saved: { xhat, rinv, gain } };
}

/**
 * dx = r · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂)) with dx̂ = dy ⊙ g, for dy [N, C]. With
 * `paramGrads` also dg = Σ_rows dy ⊙ x̂ and db = Σ_rows dy [C] (full fine-tuning).
 */
export function layerNormBackward(g: GraphBuilder, dy: string, s: LayerNormSaved, options: { paramGrads?: boolean } = {}): { dx: string; dGain?: string; dBias?: string } {
  const sumRows = (v: string): string => g.op('ReduceSum', [v, g.constInt64([0])], { keepdims: 0 });
  const dGain = options.paramGrads ? sumRows(g.mul(dy, s.xhat)) : undefined;
  const dBias = options.paramGrads ? sumRows(dy) : undefined;
  const dxhat = g.mul(dy, s.gain);
  const m1 = g.reduceMean(dxhat, [-1]);
  const m2 = g.reduceMean(g.mul(dxhat, s.xhat), [-1]);
  return { dx: g.mul(g.sub(g.sub(dxhat, m1), g.mul(s.xhat, m2)), s.rinv), dGain, dBias };
}
