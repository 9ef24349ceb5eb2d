import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, attr } from '../../../src/model/onnx/index.js';
import { createSession, f32Tensor, i64Tensor, loadOrt, sessionFromGraph } from '../../../src/model/onnx/session.js';
import { f32 } from '../../../src/model/tensor.js';
import { Prng } from '../../../src/core/prng.js';
import { tempDir } from '../../helpers/stage-context.js';

function randn(prng: Prng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = prng.normal();
  return a;
}

/** C[M,N] = A[M,K] · B[K,N] (or Bᵀ when B is [N,K]) in float64. */
function matmulRef(a: Float32Array, b: Float32Array, M: number, K: number, N: number, transB = false): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[m * K + k]! * (transB ? b[n * K + k]! : b[k * N + n]!);
      c[m * N + n] = s;
    }
  return c;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('GraphBuilder', () => {
  it('runs MatMul with a symbolic batch dim and an initializer', async () => {
    const prng = new Prng(1);
    const g = new GraphBuilder('mm');
    const x = g.input('x', 'float32', ['batch', 5]);
    const wData = randn(prng, 5 * 3);
    const w = g.initializer('w', f32([5, 3], wData));
    g.output(g.matMul(x, w), 'y', 'float32', ['batch', 3]);
    const session = await createSession(g.toBytes(), { threads: 1 });
    const ort = await loadOrt();
    const xData = randn(prng, 4 * 5);
    const { y } = await session.run({ x: f32Tensor(ort, xData, [4, 5]) });
    expect(y!.dims).toEqual([4, 3]);
    expect(maxAbsDiff(y!.data as Float32Array, matmulRef(xData, wData, 4, 5, 3))).toBeLessThan(1e-5);
  });

  it('runs Gemm with transB and an integral float attribute', async () => {
    const prng = new Prng(2);
    const g = new GraphBuilder('gemm');
    const x = g.input('x', 'float32', [2, 6]);
    const wData = randn(prng, 4 * 6);
    const w = g.initializer('w', f32([4, 6], wData));
    const y = g.op('Gemm', [x, w], { transB: 1, alpha: attr.float(2) });
    g.output(y, 'y');
    const session = await createSession(g.toBytes(), { threads: 1 });
    const ort = await loadOrt();
    const xData = randn(prng, 2 * 6);
    const out = await session.run({ x: f32Tensor(ort, xData, [2, 6]) });
    const ref = matmulRef(xData, wData, 2, 6, 4, true).map((v) => 2 * v);
    expect(maxAbsDiff(out.y!.data as Float32Array, ref)).toBeLessThan(1e-5);
  });

  it('runs Gather + Softmax + multi-output Split', async () => {
    const prng = new Prng(3);
    const table = randn(prng, 7 * 4);
    const g = new GraphBuilder('gather');
    const ids = g.input('ids', 'int64', ['n']);
    const rows = g.gather(g.initializer('table', f32([7, 4], table)), ids);
    const probs = g.softmax(rows, -1);
    const [left, right] = g.op('Split', [probs, g.constInt64([1, 3])], { axis: 1 }, { outputs: 2 });
    g.output(left!, 'left');
    g.output(right!, 'right');
    const session = await createSession(g.toBytes(), { threads: 1 });
    const ort = await loadOrt();
    const idx = [6, 0, 3];
    const out = await session.run({ ids: i64Tensor(ort, idx, [3]) });
    const ref: number[][] = idx.map((r) => {
      const row = Array.from(table.subarray(r * 4, r * 4 + 4));
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    });
    expect(maxAbsDiff(out.left!.data as Float32Array, ref.map((r) => r[0]!))).toBeLessThan(1e-6);
    expect(maxAbsDiff(out.right!.data as Float32Array, ref.flatMap((r) => r.slice(1)))).toBeLessThan(1e-6);
  });

  it('saves with external data (location/offset/length) that ORT loads from the path', async () => {
    const prng = new Prng(4);
    const wData = randn(prng, 64 * 32);
    const bData = randn(prng, 32);
    const g = new GraphBuilder('ext');
    const x = g.input('x', 'float32', [1, 64]);
    const y = g.add(g.matMul(x, g.initializer('w', f32([64, 32], wData))), g.initializer('b', f32([32], bData)));
    g.output(y, 'y');
    const dir = tempDir();
    const saved = g.save(dir, 'model.onnx', { externalData: true, externalThreshold: 1024 });
    expect(saved.dataPath).toBe(join(dir, 'model.onnx_data'));
    expect(existsSync(saved.dataPath!)).toBe(true);
    expect(statSync(saved.dataPath!).size).toBe(64 * 32 * 4); // b (128 bytes) stays inline
    expect(statSync(saved.modelPath).size).toBeLessThan(2048);
    const session = await createSession(saved.modelPath, { threads: 1 });
    const ort = await loadOrt();
    const xData = randn(prng, 64);
    const out = await session.run({ x: f32Tensor(ort, xData, [1, 64]) });
    const ref = matmulRef(xData, wData, 1, 64, 32).map((v, i) => v + bData[i]!);
    expect(maxAbsDiff(out.y!.data as Float32Array, ref)).toBeLessThan(1e-4);
    // Inline save of the same graph is byte-identical run to run.
    const a = g.save(dir, 'a.onnx', { externalData: false });
    const b = g.save(dir, 'b.onnx', { externalData: false });
    expect(Buffer.compare(readFileSync(a.modelPath), readFileSync(b.modelPath))).toBe(0);
  });

  it('sessionFromGraph loads a graph over the inline limit through external data in a temp dir', async () => {
    const wData = randn(new Prng(5), 256 * 8);
    const g = new GraphBuilder('big');
    const x = g.input('x', 'float32', [1, 256]);
    g.output(g.matMul(x, g.initializer('w', f32([256, 8], wData))), 'y');
    const session = await sessionFromGraph(g, { threads: 1 }, undefined, 1);
    const ort = await loadOrt();
    const xData = randn(new Prng(6), 256);
    const out = await session.run({ x: f32Tensor(ort, xData, [1, 256]) });
    expect(maxAbsDiff(out.y!.data as Float32Array, matmulRef(xData, wData, 1, 256, 8))).toBeLessThan(1e-4);
  });

  it('reduceMean: axes as an attribute up to opset 17, as an input from 18 on; both give the mean', async () => {
    const ort = await loadOrt();
    for (const opset of [17, 21]) {
      const g = new GraphBuilder('mean', { opsets: { '': opset } });
      const x = g.input('x', 'float32', [2, 3]);
      g.output(g.reduceMean(x, [-1]), 'y', 'float32', [2, 1]);
      const node = g.nodes.find((n) => n.opType === 'ReduceMean')!;
      expect(node.input!.length).toBe(opset >= 18 ? 2 : 1);
      expect((node.attribute ?? []).map((a) => a.name)).toEqual(opset >= 18 ? ['keepdims'] : ['axes', 'keepdims']);
      const session = await sessionFromGraph(g, { threads: 1 });
      const out = await session.run({ x: f32Tensor(ort, Float32Array.of(1, 2, 3, 4, 5, 9), [2, 3]) });
      expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 6]);
      await session.release();
    }
  });

  it('rejects duplicate value names and unknown domains', () => {
    const g = new GraphBuilder('bad');
    g.input('x', 'float32', [1]);
    expect(() => g.input('x', 'float32', [1])).toThrow(/already used/);
    expect(() => g.op('Foo', ['x'], {}, { domain: 'com.example' })).toThrow(/no opset import/);
  });
});
