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
