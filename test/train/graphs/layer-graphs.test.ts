import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import { decoderArchitecture } from '../../../src/model/architectures/index.js';
import { ropeTables } from '../../../src/model/blocks/rope.js';
import type { LlamaConfig } from '../../../src/model/config.js';
import { initLlamaWeights } from '../../../src/model/init/index.js';
import { loadOrt, type OrtTensor } from '../../../src/model/onnx/session.js';
import { quantizeNBits } from '../../../src/model/quantize/nbits.js';
import type { HostTensor } from '../../../src/model/tensor.js';
import { buildHead } from '../../../src/train/graphs/head.js';
import { buildLayerBackward } from '../../../src/train/graphs/layer-backward.js';
import { buildLayerForward } from '../../../src/train/graphs/layer-forward.js';
import { linearGroups, savedTensors, type TrainingGraphSpec } from '../../../src/train/graphs/spec.js';
import { loraSites, type LoraConfig } from '../../../src/train/lora.js';
import { referenceLayer } from '../../../src/train/reference.js';
import { attentionBias } from '../../../src/train/step/index.js';
import { hostWeights } from '../../../src/train/step/host-weights.js';

// One qwen2-style layer (q/k/v biases, GQA 4:2); batch 2 × 5, the second sequence right-padded by 2.
const cfg: LlamaConfig = {
  architecture: 'qwen2', vocabSize: 40, hiddenSize: 32, intermediateSize: 48, numHiddenLayers: 1, numAttentionHeads: 4, numKeyValueHeads: 2,
  headDim: 8, rmsNormEps: 1e-5, ropeTheta: 10000, maxPositionEmbeddings: 64, tieWordEmbeddings: false, attentionBias: true, eosTokenId: [2], torchDtype: 'float32',
};
const arch = decoderArchitecture(cfg);
const B = 2, T = 5, N = B * T, C = cfg.hiddenSize;
const MASK = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];

function modelWeights(): Map<string, HostTensor> {
  const weights = initLlamaWeights(cfg, 21);
  for (const [name, t] of weights) {
    const d = t.data as Float32Array;
    d.forEach((v, i) => (d[i] = name.endsWith('norm.weight') ? 1 + 0.3 * Math.sin(i + name.length) : name.endsWith('.bias') ? Math.sin(i) : v * 10));
  }
  return weights;
}

/** The directional derivative of the graph's gradient along a random u against the float64 central difference (relative to its terms). */
function directional(theta: Float64Array, grad: Float32Array, loss: () => number, prng: Prng): number {
  const EPS = 1e-5;
  const dir = Float64Array.from(theta, () => prng.next() - 0.5);
  const saved = Float64Array.from(theta);
  theta.forEach((_, j) => (theta[j] = saved[j]! + EPS * dir[j]!));
  const plus = loss();
  theta.forEach((_, j) => (theta[j] = saved[j]! - EPS * dir[j]!));
  const minus = loss();
  theta.set(saved);
  const fd = (plus - minus) / (2 * EPS);
  let analytic = 0, terms = 0;
  grad.forEach((g, j) => {
    analytic += g * dir[j]!;
    terms += Math.abs(g * dir[j]!);
  });
  return Math.abs(analytic - fd) / Math.max(Math.abs(fd), terms, 1e-6);
}

/** Runs a layer's forward, then its backward with dh = w; everything fed as the training step feeds it. */
async function runLayer(spec: TrainingGraphSpec, weights: Map<string, HostTensor>, h: Float32Array, w: Float32Array, lora: { A: Float32Array[]; B: Float32Array[]; masks?: Uint8Array[] }) {
  const ort = await loadOrt();
  const f32 = (data: Float32Array, dims: number[]): OrtTensor => new ort.Tensor('float32', data, dims);
  const groups = linearGroups(cfg, arch);
  const host = hostWeights({ config: cfg, weights }, arch, groups, false).layers[0]!;
  const { cos, sin } = ropeTables(T, arch.rotaryDim(cfg), cfg.ropeTheta);
  const feeds: Record<string, OrtTensor> = {
    mask_bias: f32(attentionBias({ B, T, attentionMask: BigInt64Array.from(MASK.map(BigInt)) }), [B, 1, 1, T, T]),
    cos: f32(cos.data as Float32Array, [T, 8]),
    sin: f32(sin.data as Float32Array, [T, 8]),
  };
  for (const [name, data] of host.tensors) feeds[name] = f32(data, [data.length]);
  for (const group of groups) {
    feeds[`w.${group.name}`] = f32(host.float!.get(group.name)!, [group.rows, group.inDim]);
    if (group.bias) feeds[`b.${group.name}`] = f32(host.biases.get(group.name)!, [group.rows]);
  }
  spec.adapted.forEach((m, i) => {
    const [out, inDim] = arch.linearShape(cfg, m);
    feeds[`lora.${m}.A`] = f32(lora.A[i]!, [spec.r, inDim]);
    feeds[`lora.${m}.B`] = f32(lora.B[i]!, [out, spec.r]);
    if (spec.dropout) feeds[`mask.${m}`] = new ort.Tensor('uint8', lora.masks![i]!, [N, inDim]);
  });
  const pick = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, feeds[n]!]));
  const forward = buildLayerForward(spec);
  const fs = await ort.InferenceSession.create(forward.graph.toBytes(), { intraOpNumThreads: 1 });
  const fo = await fs.run({ ...pick(fs.inputNames.filter((n) => n !== 'h')), h: f32(h, [N, C]) });
  await fs.release();
  const bs = await ort.InferenceSession.create(buildLayerBackward(spec).toBytes(), { intraOpNumThreads: 1 });
  const saved: Record<string, OrtTensor> = {};
  for (const s of savedTensors(spec)) saved[`saved.${s.name}`] = fo[forward.saved[`saved.${s.name}`]!]!;
  const bo = await bs.run({ ...pick(bs.inputNames.filter((n) => n !== 'dh' && !n.startsWith('saved.'))), ...saved, dh: f32(w, [N, C]) });
  await bs.release();
  return { forward: fo, backward: bo, saved: forward.saved };
}

describe('training layer graphs', () => {
  it('forward equals the float64 reference layer; dh_in and every LoRA gradient match central finite differences (dropout masks, biases, GQA, padding)', async () => {
    const prng = new Prng(4);
    const weights = modelWeights();
    const lora: LoraConfig = { r: 2, lora_alpha: 4, lora_dropout: 0.25, target_modules: ['q_proj', 'v_proj', 'down_proj'] };
    const sites = loraSites(cfg, lora);
    const spec: TrainingGraphSpec = { config: cfg, arch, adapted: lora.target_modules, r: 2, scale: 4 / 2 / 0.75, dropout: true, fullGrads: false };
    const A = sites.map((s) => Float32Array.from({ length: 2 * s.inDim }, () => Math.fround(prng.next() - 0.5)));
    const Bm = sites.map((s) => Float32Array.from({ length: s.outDim * 2 }, () => Math.fround(prng.next() - 0.5)));
    const masks = sites.map((s) => Uint8Array.from({ length: N * s.inDim }, () => (prng.next() < 0.25 ? 0 : 1)));
    const h = Float32Array.from({ length: N * C }, () => Math.fround(prng.normal()));
    const w = Float32Array.from({ length: N * C }, () => Math.fround(prng.normal()));
    const { forward, backward } = await runLayer(spec, weights, h, w, { A, B: Bm, masks });

    const h64 = Float64Array.from(h);
    const A64 = A.map((a) => Float64Array.from(a)), B64 = Bm.map((b) => Float64Array.from(b));
    const ref = () => referenceLayer(cfg, weights, 0, h64, { B, T, attentionMask: MASK }, { config: lora, sites, A: A64, B: B64, masks });
    const out = forward.h_out!.data as Float32Array;
    const r = ref();
    let d = 0, m = 0;
    r.forEach((v, i) => {
      d = Math.max(d, Math.abs(out[i]! - v));
      m = Math.max(m, Math.abs(v));
    });
    expect(d / m, 'h_out vs float64 reference').toBeLessThan(1e-5);

    const loss = () => ref().reduce((s, v, i) => s + v * w[i]!, 0);
    expect(directional(h64, backward.dh_in!.data as Float32Array, loss, prng), 'dh_in').toBeLessThan(1e-4);
    sites.forEach((s, i) => {
      expect(directional(A64[i]!, backward[`grad.lora.${s.module}.A`]!.data as Float32Array, loss, prng), `${s.module} A`).toBeLessThan(1e-4);
      expect(directional(B64[i]!, backward[`grad.lora.${s.module}.B`]!.data as Float32Array, loss, prng), `${s.module} B`).toBeLessThan(1e-4);
    });
  });

  it('full fine-tuning: the fused weights\', biases\' and norm gains\' gradients match central finite differences', async () => {
    const prng = new Prng(5);
    const weights = modelWeights();
    const w64 = new Map([...weights].map(([n, t]) => [n, { dtype: 'F64' as const, shape: t.shape, data: Float64Array.from(t.data as Float32Array) }]));
    const spec: TrainingGraphSpec = { config: cfg, arch, adapted: [], r: 1, scale: 1, dropout: false, fullGrads: true };
    const h = Float32Array.from({ length: N * C }, () => Math.fround(prng.normal()));
    const w = Float32Array.from({ length: N * C }, () => Math.fround(prng.normal()));
    const { backward } = await runLayer(spec, weights, h, w, { A: [], B: [] });
    const none: LoraConfig = { r: 1, lora_alpha: 1, lora_dropout: 0, target_modules: [] };
    const loss = () => referenceLayer(cfg, w64, 0, Float64Array.from(h), { B, T, attentionMask: MASK }, { config: none, sites: [], A: [], B: [] }).reduce((s, v, i) => s + v * w[i]!, 0);
    // The fused q/k/v gradient's rows are q's, then k's, then v's.
    const gq = backward['grad.w.qkv']!.data as Float32Array;
    expect(gq.length).toBe((32 + 16 + 16) * 32);
    expect(directional(w64.get('model.layers.0.self_attn.k_proj.weight')!.data, gq.subarray(32 * 32, 48 * 32), loss, prng), 'k_proj.weight').toBeLessThan(1e-4);
    expect(directional(w64.get('model.layers.0.self_attn.v_proj.bias')!.data, (backward['grad.b.qkv']!.data as Float32Array).subarray(48, 64), loss, prng), 'v_proj.bias').toBeLessThan(1e-4);
    expect(directional(w64.get('model.layers.0.mlp.up_proj.weight')!.data, (backward['grad.w.gate_up']!.data as Float32Array).subarray(48 * 32), loss, prng), 'up_proj.weight').toBeLessThan(1e-4);
    expect(directional(w64.get('model.layers.0.mlp.down_proj.weight')!.data, backward['grad.w.down']!.data as Float32Array, loss, prng), 'down_proj.weight').toBeLessThan(1e-4);
    expect(directional(w64.get('model.layers.0.post_attention_layernorm.weight')!.data, backward['grad.post_attention_layernorm.weight']!.data as Float32Array, loss, prng), 'post_attention_layernorm').toBeLessThan(1e-4);
    expect(directional(w64.get('model.layers.0.input_layernorm.weight')!.data, backward['grad.input_layernorm.weight']!.data as Float32Array, loss, prng), 'input_layernorm').toBeLessThan(1e-4);
  });

  it('the forward outputs every saved activation with the dims the step allocates', async () => {
    const weights = modelWeights();
    const spec: TrainingGraphSpec = { config: cfg, arch, adapted: ['o_proj'], r: 3, scale: 1, dropout: false, fullGrads: false };
    const { forward, saved } = await runLayer(spec, weights, new Float32Array(N * C).fill(0.5), new Float32Array(N * C), { A: [new Float32Array(3 * 32)], B: [new Float32Array(32 * 3)] });
    const size = { tokens: N, batch: B, seq: T } as Record<string, number>;
    for (const s of savedTensors(spec)) expect(forward[saved[`saved.${s.name}`]!]!.dims, s.name).toEqual(s.dims.map((x) => (typeof x === 'number' ? x : size[x])));
    expect(savedTensors(spec).map((s) => s.name)).toEqual(['ln1_xhat', 'ln1_rinv', 'q5', 'k5', 'v5', 'ln2_xhat', 'ln2_rinv', 'gate', 'up', 'u.o_proj']);
  });

  it('a 4-bit base of another shape is refused; the head declares its tensors by HF name', () => {
    const weights = modelWeights();
    const w = weights.get('model.layers.0.mlp.down_proj.weight')!;
    const q = quantizeNBits(w.data as Float32Array, 32, 48, { bits: 4, blockSize: 16, symmetric: true });
    const quantized = new Map(arch.linearModules(cfg).map((m) => [arch.linearPath(0, m), q]));
    expect(() => hostWeights({ config: cfg, weights, quantized }, arch, linearGroups(cfg, arch), false)).toThrow(/layer 0's qkv weight is 4-bit \[96, 48\], expected \[64, 32\]/);
    const spec: TrainingGraphSpec = { config: cfg, arch, adapted: [], r: 1, scale: 1, dropout: false, fullGrads: false };
    const head = buildHead({ ...spec, fullGrads: true });
    expect(head.inputs.map((i) => i.name).sort()).toEqual(['h', 'labels', 'lm_head.weight', 'model.norm.weight']);
    expect(head.outputs.map((o) => o.name).sort()).toEqual(['dh', 'grad.lm_head.weight', 'grad.model.norm.weight', 'loss_sum']);
  });
});
