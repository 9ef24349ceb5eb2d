/**
 * Rotary position embeddings in Hugging Face's `rotate_half` layout, as a forward/backward pair,
 * on x [B, heads, T, D] with cos/sin tables broadcastable to [B, heads, T, R] (R = the rotary
 * width: D for llama, partial_rotary_factor · D for phi, whose remaining D − R features pass
 * through unrotated):
 *
 *   y[..., :R] = x_r ⊙ cos + rot(x_r) ⊙ sin,  rot(z) = [−z₂, z₁] (z₁, z₂ the halves of z)
 *   y[..., R:] = x[..., R:]
 */
import type { GraphBuilder } from '../onnx/builder.js';
import type { HostTensor } from '../tensor.js';

/** cos/sin [maxPos, R] computed in float64: angle(p, i) = p · θ^(−2i/R), halves repeated. */
export function ropeTables(maxPos: number, R: number, theta: number): { cos: HostTensor; sin: HostTensor } {
  const cos = new Float32Array(maxPos * R), sin = new Float32Array(maxPos * R);
  const half = R / 2;
  for (let p = 0; p < maxPos; p++)
    for (let i = 0; i < half; i++) {
      const angle = p * theta ** (-(2 * i) / R);
      cos[p * R + i] = cos[p * R + i + half] = Math.cos(angle);
      sin[p * R + i] = sin[p * R + i + half] = Math.sin(angle);
    }
  return { cos: { dtype: 'F32', shape: [maxPos, R], data: cos }, sin: { dtype: 'F32', shape: [maxPos, R], data: sin } };
}

/** y [B, heads, T, D]; `R` (default D) features rotated. */
export function ropeForward(g: GraphBuilder, x: string, cos: string, sin: string, D: number, R = D): string {
  if (R === D) return rotate(g, x, cos, sin, D);
  const rotated = rotate(g, g.slice(x, [0], [R], [3]), cos, sin, R);
  return g.concat([rotated, g.slice(x, [R], [D], [3])], 3);
}

/** rot is linear with rotᵀ(z) = [z₂, −z₁]: dx_r = dy_r ⊙ cos + rotᵀ(dy_r ⊙ sin); the pass-through features copy dy. */
export function ropeBackward(g: GraphBuilder, dy: string, cos: string, sin: string, D: number, R = D): string {
  if (R === D) return unrotate(g, dy, cos, sin, D);
  const rotated = unrotate(g, g.slice(dy, [0], [R], [3]), cos, sin, R);
  return g.concat([rotated, g.slice(dy, [R], [D], [3])], 3);
}

function rotate(g: GraphBuilder, x: string, cos: string, sin: string, R: number): string {
  const x1 = g.slice(x, [0], [R / 2], [3]);
  const x2 = g.slice(x, [R / 2], [R], [3]);
  const rotated = g.concat([g.op('Neg', [x2]), x1], 3);
  return g.add(g.mul(x, cos), g.mul(rotated, sin));
}

function unrotate(g: GraphBuilder, dy: string, cos: string, sin: string, R: number): string {
  const z = g.mul(dy, sin);
  const z1 = g.slice(z, [0], [R / 2], [3]);
  const z2 = g.slice(z, [R / 2], [R], [3]);
  return g.add(g.mul(dy, cos), g.concat([z2, g.op('Neg', [z1])], 3));
}
