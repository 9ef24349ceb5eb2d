/**
 * float64 kernels of the decoder references (decoder.ts and the llama reference), written for
 * clarity: every loop is the formula. Shapes: rows N = B·T as the first axis, features last.
 */
export { applyRope, linear, rmsNorm } from './llama.js';

/** y = (x − μ) / √(var + eps) ⊙ g + b over the last dim of x [N, C] (biased variance, as torch). */
export function layerNorm(x: Float64Array, N: number, C: number, g: Float64Array, b: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    let mean = 0;
    for (let c = 0; c < C; c++) mean += x[n * C + c]!;
    mean /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[n * C + c]! - mean) ** 2;
    const r = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) y[n * C + c] = (x[n * C + c]! - mean) * r * g[c]! + b[c]!;
  }
  return y;
}

/** transformers' gelu_new: ½ z (1 + tanh(√(2/π) (z + 0.044715 z³))). */
export function geluNew(z: number): number {
  return 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)));
}

export function silu(z: number): number {
  return z / (1 + Math.exp(-z));
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** Row-wise softmax of x [N, K]. */
export function softmaxRows(x: Float64Array, N: number, K: number): Float64Array {
  const y = new Float64Array(N * K);
  for (let n = 0; n < N; n++) {
    let max = -Infinity;
    for (let j = 0; j < K; j++) max = Math.max(max, x[n * K + j]!);
    let sum = 0;
    for (let j = 0; j < K; j++) sum += y[n * K + j] = Math.exp(x[n * K + j]! - max);
    for (let j = 0; j < K; j++) y[n * K + j] = y[n * K + j]! / sum;
  }
  return y;
}

/**
 * RoPE on the first R features of each head of x [N, heads, D] in place (HF rotate_half on those
 * R; the other D − R pass through): angle(t, i) = pos[t] · θ^(−2i/R).
 */
export function applyPartialRope(x: Float64Array, N: number, heads: number, D: number, R: number, pos: number[], theta: number): void {
  const half = R / 2;
  for (let n = 0; n < N; n++)
    for (let h = 0; h < heads; h++) {
      const base = (n * heads + h) * D;
      for (let i = 0; i < half; i++) {
        const angle = pos[n]! * theta ** (-(2 * i) / R);
        const c = Math.cos(angle), s = Math.sin(angle);
        const x1 = x[base + i]!, x2 = x[base + i + half]!;
        x[base + i] = x1 * c - x2 * s;
        x[base + i + half] = x2 * c + x1 * s;
      }
    }
}

/**
 * Causal grouped-query attention over a batch: q [N, H, D], k and v [N, KVH, D] (rotated), rows
 * b·T + t. Query t of row b sees key s ≤ t of the same row where mask[b·T + s] is 1; a query that
 * sees no key (left padding) gives zeros. Returns [N, H·D].
 */
export function causalAttention(q: Float64Array, k: Float64Array, v: Float64Array, dims: { B: number; T: number; H: number; KVH: number; D: number }, mask: number[]): Float64Array {
  const { B, T, H, KVH, D } = dims;
  const out = new Float64Array(B * T * H * D);
  const group = H / KVH, scale = 1 / Math.sqrt(D);
  for (let b = 0; b < B; b++)
    for (let head = 0; head < H; head++) {
      const kvh = Math.floor(head / group);
      for (let t = 0; t < T; t++) {
        const qi = ((b * T + t) * H + head) * D;
        const scores: number[] = [];
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          if (mask[b * T + s] === 0) { scores.push(-Infinity); continue; }
          let dot = 0;
          const ki = ((b * T + s) * KVH + kvh) * D;
          for (let d = 0; d < D; d++) dot += q[qi + d]! * k[ki + d]!;
          scores.push(dot * scale);
          max = Math.max(max, dot * scale);
        }
        if (max === -Infinity) continue;
        const e = scores.map((sc) => (sc === -Infinity ? 0 : Math.exp(sc - max)));
        const sum = e.reduce((a, z) => a + z, 0);
        for (let s = 0; s <= t; s++) {
          const p = e[s]! / sum;
          if (p === 0) continue;
          const vi = ((b * T + s) * KVH + kvh) * D;
          for (let d = 0; d < D; d++) out[qi + d] += p * v[vi + d]!;
        }
      }
    }
  return out;
}
