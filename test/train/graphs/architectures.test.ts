/**
 * The training layer graphs of phi and qwen2_moe against the float64 reference layer
 * (src/train/reference-decoder.ts): the forward's h_out and router statistics; the backward's
 * dh_in and every LoRA gradient — with dropout masks, an MoE expert's on its pair rows — by
 * central finite differences of L = Σ w ⊙ h_out (+ Σ u ⊙ prob_sum for the load-balancing
 * path); full fine-tuning's weight gradients alike.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import { decoderArchitecture } from '../../../src/model/architectures/index.js';
import { ropeTables } from '../../../src/model/blocks/rope.js';
import type { LlamaConfig } from '../../../src/model/config.js';
import { loadOrt, type OrtTensor } from '../../../src/model/onnx/session.js';
import type { HostTensor } from '../../../src/model/tensor.js';
import { buildLayerBackward } from '../../../src/train/graphs/layer-backward.js';
import { buildLayerForward } from '../../../src/train/graphs/layer-forward.js';
import { auxStatistics, linearGroups, maskInputName, savedTensors, type TrainingGraphSpec } from '../../../src/train/graphs/spec.js';
import { dropoutSlots, loraSites, resolveTargetModules, type LoraConfig, type LoraSite } from '../../../src/train/lora.js';
import { referenceDecoderLayer } from '../../../src/train/reference-decoder.js';
import { attentionBias } from '../../../src/train/step/index.js';
import { hostWeights } from '../../../src/train/step/host-weights.js';
import { MOE, PHI, tinyModel } from '../../model/llama/fixtures.js';

const B = 2, T = 5, N = B * T;
const MASK = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];

/** One layer, weights 3× HF's init scale (norm gains and biases perturbed by the fixture). */
function oneLayer(overrides: Record<string, unknown>): { cfg: LlamaConfig; weights: Map<string, HostTensor> } {
  const { cfg, weights } = tinyModel({ ...overrides, num_hidden_layers: 1 }, 31);
  return { cfg, weights };
}

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

interface LayerRun {
  forward: Record<string, OrtTensor>;
  backward: Record<string, OrtTensor>;
}

/** Runs one layer's forward, then its backward with dh = w (and aux_grad.prob_sum = u), fed as the step feeds them. */
async function runLayer(spec: TrainingGraphSpec, weights: Map<string, HostTensor>, h: Float32Array, w: Float32Array, lora: { sites: LoraSite[]; A: Float32Array[]; B: Float32Array[]; masks?: Uint8Array[] }, u?: Float32Array): Promise<LayerRun> {
  const { config: cfg, arch } = spec;
  const C = cfg.hiddenSize, R = arch.rotaryDim(cfg), k = arch.routing?.pairsPerToken(cfg) ?? 1;
  const ort = await loadOrt();
  const f32 = (data: Float32Array, dims: number[]): OrtTensor => new ort.Tensor('float32', data, dims);
  const groups = linearGroups(cfg, arch);
  const host = hostWeights({ config: cfg, weights }, arch, groups, false).layers[0]!;
  const { cos, sin } = ropeTables(T, R, cfg.ropeTheta);
  const feeds: Record<string, OrtTensor> = {
    mask_bias: f32(attentionBias({ B, T, attentionMask: BigInt64Array.from(MASK.map(BigInt)) }), [B, 1, 1, T, T]),
    cos: f32(cos.data as Float32Array, [T, R]),
    sin: f32(sin.data as Float32Array, [T, R]),
    token_mask: f32(Float32Array.from(MASK), [N, 1]),
  };
  for (const [name, data] of host.tensors) feeds[name] = f32(data, [data.length]);
  for (const group of groups) {
    feeds[`w.${group.name}`] = f32(host.float!.get(group.name)!, [group.rows, group.inDim]);
    if (group.bias) feeds[`b.${group.name}`] = f32(host.biases.get(group.name)!, [group.rows]);
  }
  lora.sites.forEach((site, i) => {
    feeds[`lora.${site.module}.A`] = f32(lora.A[i]!, [spec.r, site.inDim]);
    feeds[`lora.${site.module}.B`] = f32(lora.B[i]!, [site.outDim, spec.r]);
    if (spec.dropout) feeds[maskInputName(spec, site.module)] = new ort.Tensor('uint8', lora.masks![site.maskSlot]!, [site.maskRows === 'pairs' ? N * k : N, site.inDim]);
  });
  if (u) feeds['aux_grad.prob_sum'] = f32(u, [u.length]);
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
  return { forward: fo, backward: bo };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

const cases: Array<[string, Record<string, unknown>, string[]]> = [
  ['phi', PHI, ['q_proj', 'v_proj', 'dense', 'fc1', 'fc2']],
  ['qwen2_moe', { ...MOE, norm_topk_prob: true }, ['q_proj', 'o_proj', 'gate', 'gate_proj', 'up_proj', 'down_proj', 'shared_expert_gate']],
];

describe('training layer graphs of phi and qwen2_moe', () => {
  for (const [label, overrides, targets] of cases) {
    it(`${label}: h_out and router statistics equal the float64 reference layer; dh_in and every LoRA gradient (dropout masks${label === 'qwen2_moe' ? ' on pair rows, the load-balancing path' : ''}) match central finite differences`, async () => {
      const prng = new Prng(7);
      const { cfg, weights } = oneLayer(overrides);
      const arch = decoderArchitecture(cfg);
      const lora: LoraConfig = { r: 2, lora_alpha: 4, lora_dropout: 0.25, target_modules: resolveTargetModules(cfg, targets) };
      const sites = loraSites(cfg, lora);
      const moe = arch.routing !== undefined;
      const spec: TrainingGraphSpec = { config: cfg, arch, adapted: lora.target_modules, r: 2, scale: 4 / 2 / 0.75, dropout: true, fullGrads: false, auxLoss: moe };
      const k = arch.routing?.pairsPerToken(cfg) ?? 1;
      const A = sites.map((s) => Float32Array.from({ length: 2 * s.inDim }, () => Math.fround(prng.next() - 0.5)));
      const Bm = sites.map((s) => Float32Array.from({ length: s.outDim * 2 }, () => Math.fround(prng.next() - 0.5)));
      const masks = dropoutSlots(sites).map((slot) => Uint8Array.from({ length: (slot.rows === 'pairs' ? N * k : N) * slot.inDim }, () => (prng.next() < 0.25 ? 0 : 1)));
      const C = cfg.hiddenSize;
      const h = Float32Array.from({ length: N * C }, () => Math.fround(prng.normal()));
      const w = Float32Array.from({ length: N * C }, () => Math.fround(prng.normal()));
      const E = arch.routing?.experts(cfg) ?? 0;
      const u = moe ? Float32Array.from({ length: E }, () => Math.fround(prng.normal())) : undefined;
      const { forward, backward } = await runLayer(spec, weights, h, w, { sites, A, B: Bm, masks }, u);
      if (moe) expect(auxStatistics(spec).map((s) => s.name)).toEqual(['counts', 'prob_sum']);

      const h64 = Float64Array.from(h);
      const A64 = A.map((a) => Float64Array.from(a)), B64 = Bm.map((b) => Float64Array.from(b));
      const ref = () => referenceDecoderLayer(cfg, weights, 0, h64, { B, T, attentionMask: MASK }, { config: lora, sites, A: A64, B: B64, masks });
      const r = ref();
      expect(relErr(forward.h_out!.data as Float32Array, r.h), 'h_out vs float64 reference').toBeLessThan(1e-5);
      if (moe) {
        expect(Array.from(forward['aux.counts']!.data as Float32Array)).toEqual(Array.from(r.stats[0]!.counts));
        expect(relErr(forward['aux.prob_sum']!.data as Float32Array, r.stats[0]!.probSum)).toBeLessThan(1e-6);
      }
      const loss = () => {
        const o = ref();
        let s = o.h.reduce((a, v, i) => a + v * w[i]!, 0);
        if (u) s += o.stats[0]!.probSum.reduce((a, v, e) => a + v * u[e]!, 0);
        return s;
      };
      expect(directional(h64, backward.dh_in!.data as Float32Array, loss, prng), 'dh_in').toBeLessThan(1e-4);
      sites.forEach((s, i) => {
        expect(directional(A64[i]!, backward[`grad.lora.${s.module}.A`]!.data as Float32Array, loss, prng), `${s.module} A`).toBeLessThan(1e-4);
        expect(directional(B64[i]!, backward[`grad.lora.${s.module}.B`]!.data as Float32Array, loss, prng), `${s.module} B`).toBeLessThan(1e-4);
      });
    });

    it(`${label}: full fine-tuning's gradients of the fused weights, biases and norm tensors match central finite differences`, async () => {
      const prng = new Prng(8);
      const { cfg, weights } = oneLayer(overrides);
      const arch = decoderArchitecture(cfg);
      const w64 = new Map([...weights].map(([n, t]) => [n, { dtype: 'F64' as const, shape: t.shape, data: Float64Array.from(t.data as Float32Array) }]));
      const spec: TrainingGraphSpec = { config: cfg, arch, adapted: [], r: 1, scale: 1, dropout: false, fullGrads: true };
      const C = cfg.hiddenSize;
      const h = Float32Array.from({ length: N * C }, () => Math.fround(prng.normal()));
      const w = Float32Array.from({ length: N * C }, () => Math.fround(prng.normal()));
      const { backward } = await runLayer(spec, weights, h, w, { sites: [], A: [], B: [] });
      const none: LoraConfig = { r: 1, lora_alpha: 1, lora_dropout: 0, target_modules: [] };
      const loss = () => referenceDecoderLayer(cfg, w64, 0, Float64Array.from(h), { B, T, attentionMask: MASK }, { config: none, sites: [], A: [], B: [] }).h.reduce((s, v, i) => s + v * w[i]!, 0);
      const groups = linearGroups(cfg, arch);
      // Every group's weight gradient, its rows in module order; biases and layer tensors too.
      for (const group of groups) {
        const grad = backward[`grad.w.${group.name}`]!.data as Float32Array;
        let row = 0;
        group.modules.forEach((m, i) => {
          const width = group.widths[i]!;
          const name = `${arch.linearPath(0, m)}.weight`;
          expect(directional(w64.get(name)!.data, grad.subarray(row * group.inDim, (row + width) * group.inDim), loss, prng), name).toBeLessThan(1e-4);
          if (group.bias) expect(directional(w64.get(`${arch.linearPath(0, m)}.bias`)!.data, (backward[`grad.b.${group.name}`]!.data as Float32Array).subarray(row, row + width), loss, prng), `${m} bias`).toBeLessThan(1e-4);
          row += width;
        });
      }
      for (const t of arch.layerTensors(cfg)) expect(directional(w64.get(`model.layers.0.${t.name}`)!.data, backward[`grad.${t.name}`]!.data as Float32Array, loss, prng), t.name).toBeLessThan(1e-4);
    });
  }
});
