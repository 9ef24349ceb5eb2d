import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/model/onnx/index.js';
import { createSession, f32Tensor, loadOrt, sessionOptions } from '../../../src/model/onnx/session.js';

describe('sessionOptions', () => {
  it('leaves ORT spinning its intra-op workers by default', () => {
    expect(sessionOptions({ threads: 2 }).extra).toBeUndefined();
    expect(sessionOptions({ threads: 2, spinning: true }).extra).toBeUndefined();
  });

  it('turns spinning off through the session config entry session.intra_op.allow_spinning', () => {
    expect(sessionOptions({ threads: 2, spinning: false }).extra).toEqual({ session: { intra_op: { allow_spinning: '0' } } });
  });

  it('a session without spinning computes what a spinning one does, bit for bit', async () => {
    const ort = await loadOrt();
    const g = new GraphBuilder('mm', { opsets: { '': 21 } });
    const a = g.input('a', 'float32', [64, 96]);
    const b = g.input('b', 'float32', [96, 80]);
    g.output(g.op('Gemm', [a, b], { alpha: 0.5 }), 'y', 'float32', [64, 80]);
    const bytes = g.toBytes();
    const A = Float32Array.from({ length: 64 * 96 }, (_, i) => Math.sin(i));
    const B = Float32Array.from({ length: 96 * 80 }, (_, i) => Math.cos(i * 0.7));
    const outputs: Float32Array[] = [];
    for (const spinning of [true, false]) {
      const s = await createSession(bytes, { threads: 2, spinning });
      const out = await s.run({ a: f32Tensor(ort, A, [64, 96]), b: f32Tensor(ort, B, [96, 80]) });
      outputs.push(out.y!.data as Float32Array);
      await s.release();
    }
    expect(outputs[0]![5]).not.toBe(0);
    expect(Buffer.from(outputs[1]!.buffer).equals(Buffer.from(outputs[0]!.buffer))).toBe(true);
  });
});

describe('GraphBuilder.inline', () => {
  it('instances a subgraph twice under prefixes, its inputs bound to values of the outer graph', async () => {
    const ort = await loadOrt();
    // sub: y = relu(x·w + c), with c an initializer
    const sub = new GraphBuilder('sub', { opsets: { '': 21 } });
    const x = sub.input('x', 'float32', ['n', 3]);
    const w = sub.input('w', 'float32', [3, 3]);
    const c = sub.constFloat([0.5, -1, 2], [3]);
    sub.output(sub.op('Relu', [sub.add(sub.matMul(x, w), c)]), 'y', 'float32', ['n', 3]);
    const g = new GraphBuilder('outer', { opsets: { '': 21 } });
    const a = g.input('a', 'float32', ['n', 3]);
    const w0 = g.input('w0', 'float32', [3, 3]);
    const w1 = g.input('w1', 'float32', [3, 3]);
    const first = g.inline(sub, 'one/', (name) => (name === 'x' ? a : w0));
    const second = g.inline(sub, 'two/', (name) => (name === 'x' ? first.y! : w1));
    g.output(second.y!, 'z', 'float32', ['n', 3]);
    expect(g.initializers.map((i) => i.name)).toEqual(['one/const_f32', 'two/const_f32']);
    const s = await createSession(g.toBytes(), { threads: 1 });
    const A = Float32Array.from([1, -2, 3, 0.5, 0, -1]);
    const W0 = Float32Array.from([1, 0, 2, -1, 1, 0, 0, 3, 1]);
    const W1 = Float32Array.from([0, 1, 0, 1, 0, -1, 2, 0, 1]);
    const out = (await s.run({ a: f32Tensor(ort, A, [2, 3]), w0: f32Tensor(ort, W0, [3, 3]), w1: f32Tensor(ort, W1, [3, 3]) })).z!.data as Float32Array;
    await s.release();
    const layer = (X: Float32Array, W: Float32Array) => Float32Array.from({ length: 6 }, (_, i) => {
      const r = Math.floor(i / 3), col = i % 3;
      let v = [0.5, -1, 2][col]!;
      for (let k = 0; k < 3; k++) v += X[r * 3 + k]! * W[k * 3 + col]!;
      return Math.max(0, v);
    });
    const expected = layer(layer(A, W0), W1);
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  it('refuses a subgraph that needs an opset domain the outer graph lacks', () => {
    const sub = new GraphBuilder('sub', { opsets: { '': 21, 'com.microsoft': 1 } });
    const g = new GraphBuilder('outer', { opsets: { '': 21 } });
    delete (g.opsets as Record<string, number>)['com.microsoft'];
    expect(() => g.inline(sub, 'p/', (n) => n)).toThrow(/needs domain "com.microsoft"/);
  });
});
