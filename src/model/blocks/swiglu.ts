/**
 * The SwiGLU MLP (llama's MLP kind) as a forward/backward pair:
 *
 *   y = down(silu(gate(x)) ⊙ up(x)),  silu(z) = z · σ(z)      x, y [N, C]; gate, up [N, F]
 *
 * The three projections are the layer context's linears (float or 4-bit, with LoRA branches, fused
 * or not), so the block only orders them and owns the activation and its derivative.
 */
import type { GraphBuilder } from '../onnx/builder.js';

export interface SwigluProjections {
  gate(x: string): string;
  up(x: string): string;
  down(x: string): string;
}

/** The backward of the projections: each returns the gradient of its input. */
export interface SwigluProjectionsBackward {
  /** From dy [N, C] to d(down's input) [N, F]; `input` rebuilds down's input where a gradient needs it. */
  down(dy: string, input: () => string): string;
  /** From d gate and d up [N, F] to dx [N, C] (one fused backward where gate and up share a group). */
  gateUp(dGate: string, dUp: string): string;
}

export interface SwigluSaved {
  gate: string; // [N, F] gate(x)
  up: string; // [N, F] up(x)
}

export function swigluForward(g: GraphBuilder, x: string, proj: SwigluProjections): { y: string; saved: SwigluSaved } {
  const gate = proj.gate(x);
  const silu = g.mul(gate, g.op('Sigmoid', [gate]));
  const up = proj.up(x);
  return { y: proj.down(g.mul(silu, up)), saved: { gate, up } };
}

/**
 * Backward for dy [N, C]: σ, silu and down's input are recomputed from the saved gate and up.
 * silu′(z) = σ(z) · (1 + z · (1 − σ(z))).
 */
export function swigluBackward(g: GraphBuilder, dy: string, s: SwigluSaved, proj: SwigluProjectionsBackward): string {
  const sig = g.op('Sigmoid', [s.gate]);
  const silu = g.mul(s.gate, sig);
  const dAct = proj.down(dy, () => g.mul(silu, s.up));
  const dUp = g.mul(dAct, silu);
  const one = g.constFloat([1]);
  const dSilu = g.mul(sig, g.add(one, g.mul(s.gate, g.sub(one, sig))));
  const dGate = g.mul(g.mul(dAct, s.up), dSilu);
  return proj.gateUp(dGate, dUp);
}
