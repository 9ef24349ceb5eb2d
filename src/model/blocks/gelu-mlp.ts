/**
 * phi's MLP kind as a forward/backward pair: two biased linears around GELU in its tanh form
 * (transformers' `gelu_new`, as GPT-2 and Phi-2 use it):
 *
 *   y = fc2(gelu(fc1(x))),  gelu(z) = ½ z (1 + tanh(c (z + a z³))),  c = √(2/π), a = 0.044715
 *
 * x, y [N, C]; fc1(x) [N, F]. The projections are the layer context's linears (biases, 4-bit,
 * LoRA), so the block owns the activation and its derivative.
 */
import type { GraphBuilder } from '../onnx/builder.js';

const C_GELU = Math.sqrt(2 / Math.PI);
const A_GELU = 0.044715;

export interface GeluMlpProjections {
  fc1(x: string): string;
  fc2(x: string): string;
}

export interface GeluMlpProjectionsBackward {
  /** From dy [N, C] to d(fc2's input) [N, F]; `input` rebuilds fc2's input where a gradient needs it. */
  fc2(dy: string, input: () => string): string;
  /** From d(fc1's output) [N, F] to dx [N, C]. */
  fc1(dPre: string): string;
}

export interface GeluMlpSaved {
  pre: string; // [N, F] fc1(x), before the activation
}

/** gelu_new(z) and its tanh term t = tanh(c (z + a z³)), which the derivative reuses. */
function gelu(g: GraphBuilder, z: string): { y: string; t: string } {
  const z3 = g.mul(g.mul(z, z), z);
  const t = g.op('Tanh', [g.mul(g.add(z, g.mul(z3, g.constFloat([A_GELU]))), g.constFloat([C_GELU]))]);
  return { y: g.mul(g.mul(z, g.constFloat([0.5])), g.add(t, g.constFloat([1]))), t };
}

export function geluMlpForward(g: GraphBuilder, x: string, proj: GeluMlpProjections): { y: string; saved: GeluMlpSaved } {
  const pre = proj.fc1(x);
  return { y: proj.fc2(gelu(g, pre).y), saved: { pre } };
}

/**
 * Backward for dy [N, C]: gelu is recomputed from the saved pre-activation.
 * gelu′(z) = ½ (1 + t) + ½ z (1 − t²) c (1 + 3a z²).
 */
export function geluMlpBackward(g: GraphBuilder, dy: string, s: GeluMlpSaved, proj: GeluMlpProjectionsBackward): string {
  const z = s.pre;
  const { y: act, t } = gelu(g, z);
  const dAct = proj.fc2(dy, () => act);
  const half = g.constFloat([0.5]), one = g.constFloat([1]);
  const sech2 = g.sub(one, g.mul(t, t));
  const inner = g.mul(g.add(one, g.mul(g.mul(z, z), g.constFloat([3 * A_GELU]))), g.constFloat([C_GELU]));
  const dGelu = g.add(g.mul(half, g.add(one, t)), g.mul(g.mul(g.mul(half, z), sech2), inner));
  return proj.fc1(g.mul(dAct, dGelu));
}
