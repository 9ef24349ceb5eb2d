/**
 * Checks one block the way llm.c checks each layer: its forward against an independent float64
 * forward, and its backward against float64 central finite differences of that forward.
 *
 * The block's forward and backward are built into one ONNX graph (float32, ONNX Runtime, one
 * thread), fed random inputs and a random output gradient w. The loss is L = Σ w ⊙ y, so w is
 * dL/dy; for each differentiable input θ, the graph's dL/dθ projected on a random direction u is
 * compared with (L(θ + εu) − L(θ − εu)) / 2ε computed by the float64 reference, relative to
 * max(|that|, Σ_j |∂L/∂θ_j · u_j|).
 */
import { expect } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import { GraphBuilder } from '../../../src/model/onnx/index.js';
import { loadOrt } from '../../../src/model/onnx/session.js';

export interface BlockInput {
  dims: number[];
  /** Values (float64; the graph gets them rounded to float32). Default: N(0, 1) draws. */
  data?: Float64Array;
  /** Not differentiated (int64 labels, uint8 masks, tables). */
  constant?: boolean;
  type?: 'float32' | 'int64' | 'uint8';
}

export interface BlockCase {
  inputs: Record<string, BlockInput>;
  /** Output dims (for w). */
  outDims: number[];
  /** Emits the forward y and, from dy, the gradient value of each differentiable input. */
  build(g: GraphBuilder, inputs: Record<string, string>): { y: string; backward(dy: string): Record<string, string> };
  /** The float64 forward. */
  reference(values: Record<string, Float64Array>): Float64Array;
}

const EPS = 1e-5;

/** Max relative error of the forward and of each input's directional derivative. */
export async function checkBlock(c: BlockCase, seed: number, tolerance: { forward: number; gradient: number }): Promise<Record<string, number>> {
  const prng = new Prng(seed);
  const values: Record<string, Float64Array> = {};
  for (const [name, spec] of Object.entries(c.inputs)) {
    const n = spec.dims.reduce((a, b) => a * b, 1);
    // Inputs are float32 values, so the float64 reference sees exactly what the graph sees.
    values[name] = spec.data ?? Float64Array.from({ length: n }, () => Math.fround(prng.normal()));
  }
  const wN = c.outDims.reduce((a, b) => a * b, 1);
  const w = Float64Array.from({ length: wN }, () => Math.fround(prng.normal()));

  const g = new GraphBuilder('block-check', { opsets: { '': 21, 'com.microsoft': 1 } });
  const names: Record<string, string> = {};
  for (const [name, spec] of Object.entries(c.inputs)) names[name] = g.input(name, spec.type ?? 'float32', spec.dims);
  const dy = g.input('dy', 'float32', c.outDims);
  const built = c.build(g, names);
  g.output(built.y, 'y', 'float32', c.outDims);
  const grads = built.backward(dy);
  for (const [name, value] of Object.entries(grads)) g.output(value, `grad.${name}`, 'float32');

  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(g.toBytes(), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { dy: new ort.Tensor('float32', Float32Array.from(w), c.outDims) };
  for (const [name, spec] of Object.entries(c.inputs)) {
    const v = values[name]!;
    const type = spec.type ?? 'float32';
    const data = type === 'int64' ? BigInt64Array.from(v, (x) => BigInt(x)) : type === 'uint8' ? Uint8Array.from(v) : Float32Array.from(v);
    feeds[name] = new ort.Tensor(type as 'float32', data as Float32Array, spec.dims);
  }
  const out = await session.run(feeds);
  await session.release();

  const errors: Record<string, number> = {};
  const ref = c.reference(values);
  const y = out.y!.data as Float32Array;
  expect(y.length).toBe(ref.length);
  let d = 0, m = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(y[i]! - ref[i]!));
    m = Math.max(m, Math.abs(ref[i]!));
  }
  errors.forward = d / Math.max(m, 1e-12);
  expect(errors.forward, 'forward vs float64 reference').toBeLessThan(tolerance.forward);

  const loss = (): number => {
    const r = c.reference(values);
    let s = 0;
    for (let i = 0; i < r.length; i++) s += w[i]! * r[i]!;
    return s;
  };
  for (const name of Object.keys(grads)) {
    const theta = values[name]!;
    const grad = out[`grad.${name}`]!.data as Float32Array;
    expect(grad.length, `grad.${name} size`).toBe(theta.length);
    const dir = Float64Array.from(theta, () => prng.next() - 0.5);
    const saved = Float64Array.from(theta);
    theta.forEach((_, j) => (theta[j] = saved[j]! + EPS * dir[j]!));
    const plus = loss();
    theta.forEach((_, j) => (theta[j] = saved[j]! - EPS * dir[j]!));
    const minus = loss();
    theta.set(saved);
    const fd = (plus - minus) / (2 * EPS);
    let analytic = 0, terms = 0;
    grad.forEach((gv, j) => {
      analytic += gv * dir[j]!;
      terms += Math.abs(gv * dir[j]!);
    });
    // Relative to the size of the terms summed (a small derivative from cancelling terms is judged by its terms).
    errors[name] = Math.abs(analytic - fd) / Math.max(Math.abs(fd), terms, 1e-6);
    expect(errors[name], `d/d${name}: block ${analytic} vs finite differences ${fd}`).toBeLessThan(tolerance.gradient);
  }
  return errors;
}
