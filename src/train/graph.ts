/**
 * The LoRA training graph of a llama-family model: forward, summed cross-entropy and a
 * hand-written backward (llm.c style, blocks in graph-blocks.ts) in one ONNX graph, run by
 * onnxruntime-node. Inputs per step:
 *
 *   input_ids, attention_mask, labels   int64 [B, T]  (labels already shifted; −100 = no loss)
 *   lora.<site>.A  float32 [r, in],  lora.<site>.B  float32 [out, r]     (trainable, fed each run)
 *   mask.<site>    uint8 [B·T, in]    (LoRA dropout keep-masks; only when lora_dropout > 0)
 * Outputs:
 *   loss_sum       float32 []         Σ over labelled tokens of −log p(label)
 *   grad.<site>.A / grad.<site>.B     d loss_sum / d A, B
 *
 * The frozen base weights are initializers (one copy). Forward reads W [out, in] with Gemm(transB)
 * and the backward's data-gradient dX = dY·W reads the same initializer with MatMul; no gradient of
 * a base weight is ever computed. q/k/v and gate/up share their input, so their weights are fused
 * row-wise into one [Σout, in] initializer (one Gemm forward, one MatMul backward). An int4 base
 * stays 4-bit: the fused codes are a uint4 initializer that DequantizeLinear (block_size, axis 1)
 * expands at each use, forward and backward separately (two zero-point initializers keep ORT's
 * common-subexpression elimination from merging them, which would hold every layer's float
 * weight alive from forward to backward).
 */
import type { LinearModule, LlamaConfig } from '../model/config.js';
import { linearPath } from '../model/config.js';
import { ropeTables } from '../model/llama/graph.js';
import { asF32 } from '../model/llama/linear.js';
import { GraphBuilder } from '../model/onnx/index.js';
import type { NBitsWeight } from '../model/quantize/nbits.js';
import type { HostTensor } from '../model/tensor.js';
import {
  attentionBackward, attentionForward, projectionBackward, projectionForward, rmsNormBackward, rmsNormForward, ropeBackward, ropeForward,
  type BaseWeightRef, type ProjectionModule,
} from './graph-blocks.js';
import type { LoraConfig, LoraSite } from './lora.js';

/** The frozen base: float tensors by HF name; decoder linears may instead be int4 (MatMulNBits layout). */
export interface BaseModel {
  config: LlamaConfig;
  /** Embedding, norms, lm_head, biases, and the float decoder linears. */
  weights: Map<string, HostTensor>;
  /** Quantized decoder linears by module path (`model.layers.0.self_attn.q_proj`). */
  quantized?: Map<string, NBitsWeight>;
}

export interface TrainingGraphOptions {
  lora: LoraConfig;
  sites: LoraSite[];
  /** RoPE table rows (the longest sequence + 1). */
  maxPositions: number;
}

export interface TrainingGraph {
  graph: GraphBuilder;
  /** Graph input names of A and B per site (same order as sites). */
  loraInputs: Array<{ A: string; B: string; mask?: string }>;
  /** Graph output names of the gradients per site. */
  gradOutputs: Array<{ A: string; B: string }>;
}

const MASKED = -1e9;
const GROUPS: LinearModule[][] = [['q_proj', 'k_proj', 'v_proj'], ['o_proj'], ['gate_proj', 'up_proj'], ['down_proj']];

export function buildTrainingGraph(base: BaseModel, options: TrainingGraphOptions): TrainingGraph {
  const cfg = base.config;
  const C = cfg.hiddenSize, H = cfg.numAttentionHeads, KVH = cfg.numKeyValueHeads, D = cfg.headDim, V = cfg.vocabSize;
  const G = H / KVH;
  const g = new GraphBuilder(`${cfg.architecture}-lora-train`, { opsets: { '': 21 } });
  const weight = (name: string): HostTensor => {
    const t = base.weights.get(name);
    if (!t) throw new Error(`training graph: missing base weight ${name}`);
    return t;
  };
  const dropout = options.lora.loraDropout > 0;
  const scale = options.lora.loraAlpha / options.lora.r / (1 - options.lora.loraDropout);

  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const labels = g.input('labels', 'int64', ['batch', 'seq']);
  const loraInputs = options.sites.map((site) => ({
    A: g.input(`lora.${site.path}.A`, 'float32', [options.lora.r, site.inDim]),
    B: g.input(`lora.${site.path}.B`, 'float32', [site.outDim, options.lora.r]),
    mask: dropout ? g.input(`mask.${site.path}`, 'uint8', ['tokens', site.inDim]) : undefined,
  }));
  const siteIndex = new Map(options.sites.map((s, i) => [s.path, i]));

  // Positions 0..T−1 (right padding), RoPE tables gathered to [T, D].
  const idsShape = g.shape(ids); // [B, T]
  const T = g.squeeze(g.shape(ids, 1, 2), [0]);
  const positions = g.op('Range', [g.constInt64([0], []), T, g.constInt64([1], [])]);
  const { cos: cosTable, sin: sinTable } = ropeTables(options.maxPositions, D, cfg.ropeTheta);
  const cos = g.gather(g.initializer('rope.cos', cosTable), positions);
  const sin = g.gather(g.initializer('rope.sin', sinTable), positions);
  // Additive attention mask [B, 1, 1, T, T]: causal and not a padded key.
  const kIdx = g.unsqueeze(positions, [0]);
  const qIdx = g.unsqueeze(positions, [1]);
  const notPad = g.unsqueeze(g.cast(attentionMask, 'bool'), [1, 2, 3]);
  const allowed = g.op('And', [notPad, g.op('LessOrEqual', [kIdx, qIdx])]);
  const maskBias = g.op('Where', [allowed, g.constFloat([0]), g.constFloat([MASKED])]);

  // Base weight references: fused per group, float or int4.
  const groupWeight = (layer: number, modules: LinearModule[]): BaseWeightRef => {
    const paths = modules.map((m) => linearPath(layer, m));
    const name = modules.length === 1 ? `${paths[0]}.weight` : `model.layers.${layer}.${modules.join('+')}.weight`;
    const biases = paths.map((p) => base.weights.get(`${p}.bias`));
    const bias = biases.every((b) => b !== undefined) ? g.initializer(name.replace(/weight$/, 'bias'), concatRows(biases.map((b) => asF32(b!)))) : undefined;
    const q = paths.map((p) => base.quantized?.get(p));
    if (q.every((x) => x !== undefined)) return quantizedRef(g, name, q as NBitsWeight[], bias);
    const w = g.initializer(name, concatRows(paths.map((p) => asF32(weight(`${p}.weight`)))));
    return { value: () => w, bias };
  };
  const groupModules = (layer: number, modules: LinearModule[], widths: number[]): ProjectionModule[] =>
    modules.map((m, i) => {
      const idx = siteIndex.get(linearPath(layer, m));
      if (idx === undefined) return { out: widths[i]! };
      const inputs = loraInputs[idx]!;
      return { out: widths[i]!, lora: { A: inputs.A, B: inputs.B, scale, mask: inputs.mask } };
    });
  const gradOutputs: Array<{ A: string; B: string }> = new Array(options.sites.length);
  const emitGrads = (layer: number, modules: LinearModule[], grads: Array<{ dA: string; dB: string } | undefined>): void => {
    modules.forEach((m, i) => {
      const gr = grads[i];
      if (!gr) return;
      const idx = siteIndex.get(linearPath(layer, m))!;
      const path = options.sites[idx]!.path;
      gradOutputs[idx] = { A: g.output(gr.dA, `grad.${path}.A`), B: g.output(gr.dB, `grad.${path}.B`) };
    });
  };

  // ---- forward ----
  const embed = g.initializer('model.embed_tokens.weight', asF32(weight('model.embed_tokens.weight')));
  let h = g.reshape(g.gather(embed, ids), [-1, C]); // [N, C]
  const toHeads = (x: string, heads: number): string => g.transpose(g.op('Reshape', [x, g.concat([idsShape, g.constInt64([heads, D])], 0)]), [0, 2, 1, 3]); // [N, heads·D] → [B, heads, T, D]
  const fromHeads = (x: string, heads: number): string => g.reshape(g.transpose(x, [0, 2, 1, 3]), [-1, heads * D]); // [B, heads, T, D] → [N, heads·D]
  const widths = { qkv: [H * D, KVH * D, KVH * D], o: [C], gu: [cfg.intermediateSize, cfg.intermediateSize], down: [C] };
  const layers = [];
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `model.layers.${l}`;
    const ln1 = rmsNormForward(g, h, g.initializer(`${p}.input_layernorm.weight`, asF32(weight(`${p}.input_layernorm.weight`))), cfg.rmsNormEps);
    const qkvW = groupWeight(l, GROUPS[0]!);
    const qkvM = groupModules(l, GROUPS[0]!, widths.qkv);
    const qkv = projectionForward(g, ln1.y, qkvW, qkvM);
    const q = ropeForward(g, toHeads(qkv.ys[0]!, H), cos, sin, D);
    const k = ropeForward(g, toHeads(qkv.ys[1]!, KVH), cos, sin, D);
    const v = toHeads(qkv.ys[2]!, KVH);
    const att = attentionForward(g, q, k, v, maskBias, { KVH, G, D });
    const merged = fromHeads(g.reshape(att.out, [0, H, -1, D]), H);
    const oW = groupWeight(l, GROUPS[1]!);
    const oM = groupModules(l, GROUPS[1]!, widths.o);
    const o = projectionForward(g, merged, oW, oM);
    h = g.add(h, o.ys[0]!);
    const ln2 = rmsNormForward(g, h, g.initializer(`${p}.post_attention_layernorm.weight`, asF32(weight(`${p}.post_attention_layernorm.weight`))), cfg.rmsNormEps);
    const guW = groupWeight(l, GROUPS[2]!);
    const guM = groupModules(l, GROUPS[2]!, widths.gu);
    const gu = projectionForward(g, ln2.y, guW, guM);
    const gate = gu.ys[0]!, up = gu.ys[1]!;
    const sig = g.op('Sigmoid', [gate]);
    const silu = g.mul(gate, sig);
    const act = g.mul(silu, up);
    const downW = groupWeight(l, GROUPS[3]!);
    const downM = groupModules(l, GROUPS[3]!, widths.down);
    const down = projectionForward(g, act, downW, downM);
    h = g.add(h, down.ys[0]!);
    layers.push({ ln1, qkvW, qkvM, qkv, att, oW, oM, o, ln2, guW, guM, gu, gate, up, downW, downM, down, sigB: '', siluB: '' });
  }
  const lnF = rmsNormForward(g, h, g.initializer('model.norm.weight', asF32(weight('model.norm.weight'))), cfg.rmsNormEps);
  const head = cfg.tieWordEmbeddings ? embed : g.initializer('lm_head.weight', asF32(weight('lm_head.weight')));
  const logits = g.gemmTransB(lnF.y, head); // [N, V]

  // ---- loss: Σ over labelled tokens of −log softmax(logits)[label] ----
  const flatLabels = g.reshape(labels, [-1]); // [N]
  const valid = g.op('Not', [g.op('Equal', [flatLabels, g.constInt64([-100], [])])]);
  const weightTok = g.unsqueeze(g.cast(valid, 'float32'), [1]); // [N, 1]
  const safeLabels = g.op('Where', [valid, flatLabels, g.constInt64([0], [])]);
  const logProbs = g.op('LogSoftmax', [logits], { axis: -1 });
  const picked = g.op('GatherElements', [logProbs, g.unsqueeze(safeLabels, [1])], { axis: 1 }); // [N, 1]
  const lossSum = g.op('Neg', [g.op('ReduceSum', [g.mul(picked, weightTok)], { keepdims: 0 })]);
  g.output(lossSum, 'loss_sum', 'float32', []);

  // ---- backward ----
  const oneHot = g.op('OneHot', [safeLabels, g.constInt64([V], []), g.constFloat([0, 1])], { axis: -1 });
  const dLogits = g.mul(g.sub(g.op('Exp', [logProbs]), oneHot), weightTok); // [N, V]
  let dh = rmsNormBackward(g, g.matMul(dLogits, head), lnF.saved);
  for (let l = cfg.numHiddenLayers - 1; l >= 0; l--) {
    const s = layers[l]!;
    // MLP
    // σ(gate), silu and the down projection's input are recomputed here rather than kept from the
    // forward (3 × [N, F] per layer): with other ops (Exp/Reciprocal instead of Sigmoid, other
    // operands) so that ORT's common-subexpression elimination cannot fold them back into the
    // forward values and keep those alive.
    s.sigB = g.op('Reciprocal', [g.add(g.constFloat([1]), g.op('Exp', [g.op('Neg', [s.gate])]))]);
    s.siluB = g.mul(s.sigB, s.gate);
    const downB = projectionBackward(g, [dh], s.downW, s.downM, s.down.saved, g.mul(s.up, s.siluB));
    emitGrads(l, GROUPS[3]!, downB.grads);
    const dAct = downB.dx;
    const dUp = g.mul(dAct, s.siluB);
    // silu'(x) = σ(x)·(1 + x·(1 − σ(x)))
    const dSiluDGate = g.mul(s.sigB, g.add(g.constFloat([1]), g.mul(s.gate, g.sub(g.constFloat([1]), s.sigB))));
    const dGate = g.mul(g.mul(dAct, s.up), dSiluDGate);
    const guB = projectionBackward(g, [dGate, dUp], s.guW, s.guM, s.gu.saved);
    emitGrads(l, GROUPS[2]!, guB.grads);
    dh = g.add(dh, rmsNormBackward(g, guB.dx, s.ln2.saved));
    // attention
    const oB = projectionBackward(g, [dh], s.oW, s.oM, s.o.saved);
    emitGrads(l, GROUPS[1]!, oB.grads);
    const dOut = g.reshape(toHeads(oB.dx, H), [0, KVH, G, -1, D]);
    const attB = attentionBackward(g, dOut, s.att.saved, { H, KVH, G, D });
    const dq = fromHeads(ropeBackward(g, attB.dq, cos, sin, D), H);
    const dk = fromHeads(ropeBackward(g, attB.dk, cos, sin, D), KVH);
    const dv = fromHeads(attB.dv, KVH);
    const qkvB = projectionBackward(g, [dq, dk, dv], s.qkvW, s.qkvM, s.qkv.saved);
    emitGrads(l, GROUPS[0]!, qkvB.grads);
    dh = g.add(dh, rmsNormBackward(g, qkvB.dx, s.ln1.saved));
  }
  return { graph: g, loraInputs, gradOutputs };
}

/** Row-wise concatenation of [out_i, in] float32 tensors (a view when there is one). */
function concatRows(ts: HostTensor[]): HostTensor {
  if (ts.length === 1) return ts[0]!;
  const inDim = ts[0]!.shape.length === 2 ? ts[0]!.shape[1]! : 1;
  const rows = ts.reduce((s, t) => s + t.shape[0]!, 0);
  const data = new Float32Array(rows * inDim);
  let off = 0;
  for (const t of ts) {
    data.set(t.data as Float32Array, off);
    off += t.data.length;
  }
  return { dtype: 'F32', shape: ts[0]!.shape.length === 2 ? [rows, inDim] : [rows], data };
}

/**
 * int4 weights of a group as one uint4 [Σout, in] initializer (the MatMulNBits codes are already
 * row-major packed int4 when in % block_size = 0) with fp32 scales [Σout, in/bs] and uint4 zero
 * points (8 for symmetric quantization). Each use dequantizes anew.
 */
function quantizedRef(g: GraphBuilder, name: string, qs: NBitsWeight[], bias?: string): BaseWeightRef {
  const q0 = qs[0]!;
  for (const q of qs) {
    if (q.bits !== 4) throw new Error(`training graph: ${name}: only 4-bit quantized bases train in-graph (got ${q.bits}-bit)`);
    if (q.K % q.blockSize !== 0) throw new Error(`training graph: ${name}: in-features ${q.K} not a multiple of block size ${q.blockSize}`);
    if (q.blockSize !== q0.blockSize || q.K !== q0.K) throw new Error(`training graph: ${name}: fused weights disagree on block size or width`);
  }
  const rows = qs.reduce((s, q) => s + q.N, 0);
  const K = q0.K, nBlocks = q0.nBlocks;
  const codes = new Uint8Array((rows * K) / 2);
  const scales = new Float32Array(rows * nBlocks);
  const zp = new Uint8Array(Math.ceil((rows * nBlocks) / 2));
  let row = 0;
  for (const q of qs) {
    codes.set(q.codes, (row * K) / 2);
    scales.set(q.scales, row * nBlocks);
    for (let n = 0; n < q.N; n++)
      for (let b = 0; b < nBlocks; b++) {
        const z = zeroPointAt(q, n, b);
        const flat = (row + n) * nBlocks + b;
        zp[flat >> 1] |= (flat & 1) === 0 ? z : z << 4;
      }
    row += q.N;
  }
  const codesName = g.rawInitializer(`${name}.q4`, 'uint4', [rows, K], codes);
  const scalesName = g.rawInitializer(`${name}.scales`, 'float32', [rows, nBlocks], new Uint8Array(scales.buffer));
  const zpForward = g.rawInitializer(`${name}.zp_fwd`, 'uint4', [rows, nBlocks], zp);
  const zpBackward = g.rawInitializer(`${name}.zp_bwd`, 'uint4', [rows, nBlocks], zp.slice());
  return {
    value: (use) => g.op('DequantizeLinear', [codesName, scalesName, use === 'forward' ? zpForward : zpBackward], { axis: 1, block_size: q0.blockSize }),
    bias,
  };
}

function zeroPointAt(q: NBitsWeight, n: number, b: number): number {
  if (!q.zeroPoints) return 8;
  const zpRow = Math.ceil(q.nBlocks / 2);
  const byte = q.zeroPoints[n * zpRow + (b >> 1)]!;
  return (b & 1) === 0 ? byte & 15 : byte >> 4;
}
