import { describe, expect, it } from 'vitest';
import { linearPath, LINEAR_MODULES } from '../../../src/model/architectures/llama.js';
import { buildDecoderGraph } from '../../../src/model/decoder/graph.js';
import { DecoderRunner } from '../../../src/model/decoder/runner.js';
import { dequantizeNBits, quantizeNBits, type NBitsOptions } from '../../../src/model/quantize/nbits.js';
import { referenceLogits } from '../../../src/model/reference/llama.js';
import type { HostTensor } from '../../../src/model/tensor.js';
import { tinyModel } from '../llama/fixtures.js';

describe('quantized llama graph', () => {
  const cases: NBitsOptions[] = [
    { bits: 4, blockSize: 16, symmetric: false },
    { bits: 4, blockSize: 32, symmetric: true },
    { bits: 8, blockSize: 16, symmetric: false },
  ];
  for (const q of cases) {
    it(`${q.bits}-bit block ${q.blockSize} ${q.symmetric ? 'sym' : 'asym'}: equals the reference forward on dequantized weights (qwen2, biases)`, async () => {
      const { cfg, weights } = tinyModel({ model_type: 'qwen2' });
      const deq = new Map<string, HostTensor>(weights);
      for (let l = 0; l < cfg.numHiddenLayers; l++)
        for (const m of LINEAR_MODULES) {
          const name = `${linearPath(l, m)}.weight`;
          const w = weights.get(name)!;
          const [N, K] = w.shape as [number, number];
          deq.set(name, { dtype: 'F32', shape: [N, K], data: dequantizeNBits(quantizeNBits(w.data as Float32Array, N, K, q)) });
        }
      const graph = buildDecoderGraph(cfg, weights, { quantization: { ...q, accuracyLevel: 0 } });
      expect(graph.nodes.filter((n) => n.opType === 'MatMulNBits')).toHaveLength(7 * cfg.numHiddenLayers);
      const r = await DecoderRunner.create(cfg, graph.toBytes(), 1);
      const ids = [4, 8, 15, 16, 23, 42];
      const out = await r.step({ inputIds: [ids], attentionMask: [ids.map(() => 1)], positionIds: [ids.map((_, t) => t)] });
      const ref = referenceLogits(cfg, deq, ids);
      let d = 0, m = 0;
      for (let i = 0; i < ref.length; i++) {
        d = Math.max(d, Math.abs(out.logits[i]! - ref[i]!));
        m = Math.max(m, Math.abs(ref[i]!));
      }
      expect(d / m).toBeLessThan(1e-4);
      await r.release();
    });
  }
});
