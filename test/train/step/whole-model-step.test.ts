/**
 * The whole-model step (one ONNX Runtime run per micro-batch) against the layerwise step: the
 * same loss and the same gradients bit for bit over two steps (the parameters updated in
 * between), for llama, phi and qwen2_moe, LoRA with dropout on a float and an int4 base, full
 * fine-tuning, a right-padded batch, the head in several row chunks and two batch shapes (two
 * whole-model sessions). And which engine createTrainingStep picks.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import { decoderArchitecture, linearWeightNames } from '../../../src/model/architectures/index.js';
import type { LlamaConfig } from '../../../src/model/config.js';
import { quantizeNBits, type NBitsWeight } from '../../../src/model/quantize/nbits.js';
import type { HostTensor } from '../../../src/model/tensor.js';
import { buildWholeModel } from '../../../src/train/graphs/whole-model.js';
import { linearGroups } from '../../../src/train/graphs/spec.js';
import { dropoutSlots, initLora, loraSites, resolveTargetModules, type LoraConfig } from '../../../src/train/lora.js';
import { chooseEngine, createTrainingStep, type TokenBatch, type Trainable } from '../../../src/train/step/index.js';
import { MOE, PHI, tinyModel } from '../../model/llama/fixtures.js';
import { tempDir } from '../../helpers/stage-context.js';
import { loadOrt, sessionOptions } from '../../../src/model/onnx/session.js';
import { buildHead } from '../../../src/train/graphs/head.js';
import { buildLayerBackward } from '../../../src/train/graphs/layer-backward.js';
import { buildLayerForward } from '../../../src/train/graphs/layer-forward.js';
import type { TrainingGraphSpec } from '../../../src/train/graphs/spec.js';

/** B rows of T tokens, the last row right-padded from `pad` on; labels shifted, −100 on padding. */
function batchOf(B: number, T: number, pad: number, seed: number, vocab: number): TokenBatch {
  const prng = new Prng(seed);
  const N = B * T;
  const ids = Array.from({ length: N }, () => 3 + Math.floor(prng.next() * (vocab - 3)));
  const mask = Array.from({ length: N }, (_, i) => (i >= (B - 1) * T + pad ? 0 : 1));
  const labels = ids.map((_, i) => ((i + 1) % T === 0 || mask[i + 1] === 0 ? -100 : ids[i + 1]!));
  return {
    B, T,
    inputIds: BigInt64Array.from(ids.map(BigInt)),
    attentionMask: BigInt64Array.from(mask.map(BigInt)),
    labels: BigInt64Array.from(labels.map(BigInt)),
    tokens: labels.filter((l) => l !== -100).length,
  };
}

function quantizeBase(cfg: LlamaConfig, weights: Map<string, HostTensor>): Map<string, NBitsWeight> {
  const quantized = new Map<string, NBitsWeight>();
  for (const name of linearWeightNames(cfg)) {
    const w = weights.get(name)!;
    quantized.set(name.slice(0, -'.weight'.length), quantizeNBits(w.data as Float32Array, w.shape[0]!, w.shape[1]!, { bits: 4, blockSize: 16, symmetric: false }));
    weights.delete(name);
  }
  return quantized;
}

interface Case {
  overrides: Record<string, unknown>;
  kind: 'lora' | 'full';
  int4?: boolean;
  dropout?: number;
}

/** Two steps of one engine: each step's loss, and every gradient and parameter after it, as bytes. */
async function trace(c: Case, engine: 'layerwise' | 'whole-model'): Promise<{ losses: number[]; bytes: Buffer[] }> {
  // Wider than the other tests' tiny model, and 100+ token batches: at 32 wide and 14 tokens a
  // graph that ORT fused differently (x·σ(x) not as QuickGelu) still gave equal bits.
  const { cfg, weights } = tinyModel({ hidden_size: 64, intermediate_size: 160, ...c.overrides }, 23);
  const quantized = c.int4 ? quantizeBase(cfg, weights) : undefined;
  const lora: LoraConfig = { r: 2, lora_alpha: 4, lora_dropout: c.dropout ?? 0, target_modules: resolveTargetModules(cfg, 'all-linear') };
  const sites = loraSites(cfg, lora);
  const params = initLora(sites, lora.r, 3);
  const prng = new Prng(5);
  for (const p of params) p.B.forEach((_, i, a) => (a[i] = Math.fround((prng.next() - 0.5) * 0.5)));
  const trainable: Trainable = c.kind === 'lora' ? { kind: 'lora', lora, sites, params } : { kind: 'full' };
  const step = await createTrainingStep({ base: { config: cfg, weights, quantized }, trainable, maxPositions: 64, threads: 2, headRows: 50, engine });
  const k = decoderArchitecture(cfg).routing?.pairsPerToken(cfg) ?? 1;
  const losses: number[] = [];
  const bytes: Buffer[] = [];
  // 2 × 63 tokens (head chunks of 50: 3 runs), then 3 × 60 (4 runs): two whole-model sessions.
  for (const [s, batch] of [batchOf(2, 63, 40, 7, cfg.vocabSize), batchOf(3, 60, 20, 8, cfg.vocabSize)].entries()) {
    const N = batch.B * batch.T;
    const masks = (c.dropout ?? 0) > 0 ? dropoutSlots(sites).map((slot) => Uint8Array.from({ length: (slot.rows === 'pairs' ? N * k : N) * slot.inDim }, (_, i) => ((i * 7 + s) % 5 === 0 ? 0 : 1))) : undefined;
    const out = await step.run(batch, masks);
    losses.push(out.lossSum);
    const trained = step.parameters();
    out.grads.forEach((g, i) => {
      bytes.push(Buffer.from(g.buffer, g.byteOffset, g.byteLength));
      const p = trained[i]!.data;
      for (let j = 0; j < p.length; j++) p[j] = Math.fround(p[j]! - 0.05 * g[j]!); // the same update for both engines
    });
    for (const p of trained) bytes.push(Buffer.from(p.data.slice().buffer));
  }
  await step.release();
  return { losses, bytes };
}

async function expectSameSteps(c: Case): Promise<void> {
  const a = await trace(c, 'layerwise');
  const b = await trace(c, 'whole-model');
  expect(b.losses).toEqual(a.losses);
  expect(a.losses.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
  expect(b.bytes.length).toBe(a.bytes.length);
  b.bytes.forEach((x, i) => expect(x.equals(a.bytes[i]!), `tensor ${i} differs`).toBe(true));
}

describe('whole-model training step = layerwise step, bit for bit', () => {
  it('llama: LoRA with dropout on every linear, float base', async () => {
    await expectSameSteps({ overrides: {}, kind: 'lora', dropout: 0.2 });
  });

  it('llama: LoRA on an int4 base (QLoRA)', async () => {
    await expectSameSteps({ overrides: {}, kind: 'lora', int4: true, dropout: 0.1 });
  });

  it('llama: full fine-tuning (the head in chunks, the embedding scatter-add)', async () => {
    await expectSameSteps({ overrides: {}, kind: 'full' });
  });

  it('qwen2: q/k/v biases and tied embeddings, full fine-tuning', async () => {
    await expectSameSteps({ overrides: { model_type: 'qwen2', tie_word_embeddings: true }, kind: 'full' });
  });

  it('phi: partial rotary, LayerNorm, biases; LoRA with dropout and full fine-tuning', async () => {
    await expectSameSteps({ overrides: PHI, kind: 'lora', dropout: 0.2 });
    await expectSameSteps({ overrides: PHI, kind: 'full' });
  });

  it('qwen2_moe without the auxiliary loss: LoRA on attention, router and experts', async () => {
    await expectSameSteps({ overrides: MOE, kind: 'lora', dropout: 0.2 });
  });
});

/** Op types of a graph as ONNX Runtime optimizes it ('all'), counted. */
async function optimizedOps(bytes: Uint8Array, dir: string, file: string): Promise<Map<string, number>> {
  const ort = await loadOrt();
  const path = join(dir, file);
  const session = await ort.InferenceSession.create(bytes, { ...sessionOptions({ threads: 1 }), optimizedModelFilePath: path });
  await session.release();
  const counts = new Map<string, number>();
  for (const node of onnxProto.onnx.ModelProto.decode(readFileSync(path)).graph!.node!) counts.set(node.opType!, (counts.get(node.opType!) ?? 0) + 1);
  return counts;
}

describe('whole-model graph as ONNX Runtime optimizes it', () => {
  // Bits match only where ORT fuses the same matmuls: its MatMul + Add → Gemm fusion reads
  // symbolic dimensions (the backward's inputs are annotated for it) and must not reach across a
  // layer boundary (dh passes a Max(dh, dh) barrier). Common-subexpression elimination may merge
  // recomputations (Cast, Mul, Sigmoid, shape ops) and so skip a QuickGelu or FusedMatMul
  // fusion: the same values either way, not counted here.
  const COUNTED = ['Gemm', 'MatMul', 'Add', 'Sub', 'Softmax', 'MatMulNBits', 'ReduceSum', 'Split'];
  for (const kind of ['lora', 'full'] as const) {
    it(`fuses the matmuls as the layerwise graphs do (${kind})`, async () => {
      const { cfg } = tinyModel({ hidden_size: 64, intermediate_size: 160, num_hidden_layers: 3 }, 1);
      const arch = decoderArchitecture(cfg);
      const spec: TrainingGraphSpec = { config: cfg, arch, fullGrads: kind === 'full', adapted: kind === 'lora' ? ['q_proj', 'o_proj', 'gate_proj', 'down_proj'] : [], r: 2, scale: 2, dropout: kind === 'lora', saveProbs: true };
      const dir = tempDir('whole-model-ops-');
      try {
        const layer = [await optimizedOps(buildLayerForward(spec).graph.toBytes(), dir, 'f.onnx'), await optimizedOps(buildLayerBackward(spec).toBytes(), dir, 'b.onnx')];
        const head = await optimizedOps(buildHead(spec).toBytes(), dir, 'h.onnx');
        const whole = await optimizedOps(buildWholeModel(spec, 2, 50).graph.toBytes(), dir, 'w.onnx');
        for (const op of COUNTED) {
          const expected = cfg.numHiddenLayers * layer.reduce((n, c) => n + (c.get(op) ?? 0), 0) + 2 * (head.get(op) ?? 0);
          expect(whole.get(op) ?? 0, op).toBe(expected);
        }
        expect(whole.get('Gemm')).toBeGreaterThan(10);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('createTrainingStep engine choice', () => {
  const { cfg } = tinyModel({}, 1);
  const base = { config: cfg, weights: new Map<string, HostTensor>() };

  it('runs a small model as one whole-model run per micro-batch', () => {
    expect(chooseEngine({ base, maxPositions: 16 })).toBe('whole-model');
  });

  it('runs layer by layer a model over 64 M decoder parameters, even at a short context', () => {
    const big = tinyModel({ hidden_size: 1024, intermediate_size: 4096, num_hidden_layers: 6 }, 1).cfg; // 6 × (4·1024² + 3·1024·4096) ≈ 101 M
    expect(chooseEngine({ base: { config: big, weights: new Map() }, maxPositions: 16 })).toBe('layerwise');
  });

  it('runs layer by layer where the attention probabilities would be too large to keep (a long context)', () => {
    // 2 layers × 4 heads × T² × 4 bytes > 64 MB from T ≈ 1449
    expect(chooseEngine({ base, maxPositions: 2048 })).toBe('layerwise');
    expect(chooseEngine({ base, maxPositions: 16, saveAttentionProbs: false })).toBe('layerwise');
  });

  it('runs layer by layer with an auxiliary loss (MoE load balancing)', () => {
    const moe = tinyModel({ ...MOE, output_router_logits: true }, 1).cfg;
    expect(chooseEngine({ base: { config: moe, weights: new Map() }, maxPositions: 16, auxLoss: true })).toBe('layerwise');
    expect(chooseEngine({ base: { config: moe, weights: new Map() }, maxPositions: 16, auxLoss: false })).toBe('whole-model');
  });

  it('takes an engine forced by the options', () => {
    expect(chooseEngine({ base, maxPositions: 16, engine: 'layerwise' })).toBe('layerwise');
    expect(chooseEngine({ base, maxPositions: 2048, engine: 'whole-model' })).toBe('whole-model');
  });

  it('the whole-model graph refuses an auxiliary loss', () => {
    const moe = tinyModel({ ...MOE, output_router_logits: true }, 1).cfg;
    const arch = decoderArchitecture(moe);
    expect(linearGroups(moe, arch).length).toBeGreaterThan(0);
    expect(() => buildWholeModel({ config: moe, arch, adapted: [], r: 1, scale: 1, dropout: false, fullGrads: true, auxLoss: true, saveProbs: true }, 1, 256)).toThrow(/auxiliary loss needs the layerwise step/);
  });
});
