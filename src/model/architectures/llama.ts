/**
 * llama (`LlamaForCausalLM`): pre-norm decoder layers
 *
 *   h1 = h + o(attn(rope(q(x)), rope(k(x)), v(x)))     x = RMSNorm₁(h)
 *   h' = h1 + down(silu(gate(x2)) ⊙ up(x2))            x2 = RMSNorm₂(h1)
 *
 * with GQA, full-width RoPE, optional q/k/v biases (`attention_bias`), a final RMSNorm and a tied
 * or untied LM head. mistral and qwen2 use this layer as it is (mistral.ts, qwen2.ts).
 */
import type { LlamaConfig } from '../config.js';
import { rmsNormBackward, rmsNormForward, type RmsNormSaved } from '../blocks/rmsnorm.js';
import { selfAttentionBackward, selfAttentionForward, type AttentionModules, type SelfAttentionShape } from '../blocks/self-attention.js';
import { swigluBackward, swigluForward } from '../blocks/swiglu.js';
import type { GraphBuilder } from '../onnx/builder.js';
import type { DecoderArchitecture, SavedActivation } from './architecture.js';

/** The linear projections of a llama layer, in HF order (also the LoRA targets). */
export const LINEAR_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LinearModule = (typeof LINEAR_MODULES)[number];

/** [out, in] of a layer's linear module (HF stores weights as [out, in]). */
export function linearShape(cfg: LlamaConfig, module: LinearModule): [number, number] {
  const C = cfg.hiddenSize, D = cfg.headDim, H = cfg.numAttentionHeads, KVH = cfg.numKeyValueHeads, F = cfg.intermediateSize;
  switch (module) {
    case 'q_proj': return [H * D, C];
    case 'k_proj': return [KVH * D, C];
    case 'v_proj': return [KVH * D, C];
    case 'o_proj': return [C, H * D];
    case 'gate_proj': return [F, C];
    case 'up_proj': return [F, C];
    case 'down_proj': return [C, F];
  }
}

/** HF module path of a layer's linear module, e.g. `model.layers.3.mlp.up_proj`. */
export function linearPath(layer: number, module: LinearModule): string {
  const group = module === 'gate_proj' || module === 'up_proj' || module === 'down_proj' ? 'mlp' : 'self_attn';
  return `model.layers.${layer}.${group}.${module}`;
}

const ATTENTION: AttentionModules = { q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'o_proj' };
const QKV: readonly string[] = ['q_proj', 'k_proj', 'v_proj'];

function attentionShape(cfg: LlamaConfig): SelfAttentionShape {
  return { H: cfg.numAttentionHeads, KVH: cfg.numKeyValueHeads, D: cfg.headDim, rotary: cfg.headDim };
}

/** RMSNorm's backward, with the gain's gradient recorded in full fine-tuning. */
function normBackward(cx: { g: GraphBuilder; wantsTensorGrads: boolean; tensorGrad(name: string, grad: string): void }, dy: string, s: RmsNormSaved, gainName: string): string {
  const b = rmsNormBackward(cx.g, dy, s, { gainGrad: cx.wantsTensorGrads });
  if (b.dGain) cx.tensorGrad(gainName, b.dGain);
  return b.dx;
}

export const llama: DecoderArchitecture = {
  modelType: 'llama',
  linearModules: LINEAR_MODULES,
  linearGroups: { qkv: QKV, o: ['o_proj'], gate_up: ['gate_proj', 'up_proj'], down: ['down_proj'] },
  linearShape: (cfg, module) => linearShape(cfg, module as LinearModule),
  linearPath: (layer, module) => linearPath(layer, module as LinearModule),
  linearBias: (cfg, module) => cfg.attentionBias && QKV.includes(module),
  layerTensors: (cfg) => [
    { name: 'input_layernorm.weight', shape: [cfg.hiddenSize] },
    { name: 'post_attention_layernorm.weight', shape: [cfg.hiddenSize] },
  ],
  embedding: 'model.embed_tokens.weight',
  headTensors: (cfg) => [{ name: 'model.norm.weight', shape: [cfg.hiddenSize] }],
  lmHead: (cfg) => ({ weight: cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight' }),
  hiddenActivations: ['silu', 'swish'],
  rotaryDim: (cfg) => cfg.headDim,

  savedActivations(cfg): SavedActivation[] {
    const { hiddenSize: C, intermediateSize: F, numKeyValueHeads: KVH, numAttentionHeads: H, headDim: D } = cfg;
    return [
      { name: 'ln1_xhat', dims: ['tokens', C] },
      { name: 'ln1_rinv', dims: ['tokens', 1] },
      { name: 'q5', dims: ['batch', KVH, H / KVH, 'seq', D] },
      { name: 'k5', dims: ['batch', KVH, 1, 'seq', D] },
      { name: 'v5', dims: ['batch', KVH, 1, 'seq', D] },
      { name: 'ln2_xhat', dims: ['tokens', C] },
      { name: 'ln2_rinv', dims: ['tokens', 1] },
      { name: 'gate', dims: ['tokens', F] },
      { name: 'up', dims: ['tokens', F] },
    ];
  },

  layerForward(cx, h) {
    const { g, cfg } = cx;
    const ln1 = rmsNormForward(g, h, cx.tensor('input_layernorm.weight'), cfg.rmsNormEps);
    const att = selfAttentionForward(cx, ln1.y, ATTENTION, attentionShape(cfg));
    const h1 = g.add(h, att.y);
    const ln2 = rmsNormForward(g, h1, cx.tensor('post_attention_layernorm.weight'), cfg.rmsNormEps);
    const mlp = swigluForward(g, ln2.y, { gate: (x) => cx.linear('gate_proj', x), up: (x) => cx.linear('up_proj', x), down: (x) => cx.linear('down_proj', x) });
    const saved = {
      ln1_xhat: ln1.saved.xhat, ln1_rinv: ln1.saved.rinv, q5: att.saved.q5, k5: att.saved.k5, v5: att.saved.v5,
      ln2_xhat: ln2.saved.xhat, ln2_rinv: ln2.saved.rinv, gate: mlp.saved.gate, up: mlp.saved.up,
    };
    return { h: g.add(h1, mlp.y), saved };
  },

  layerBackward(cx, dh) {
    const { g } = cx;
    const ln1: RmsNormSaved = { xhat: cx.saved('ln1_xhat'), rinv: cx.saved('ln1_rinv'), gain: cx.tensor('input_layernorm.weight') };
    const ln2: RmsNormSaved = { xhat: cx.saved('ln2_xhat'), rinv: cx.saved('ln2_rinv'), gain: cx.tensor('post_attention_layernorm.weight') };
    // A norm's output (the next linears' input) is rebuilt from x̂ and the gain where a gradient needs it.
    const dLn2 = swigluBackward(g, dh, { gate: cx.saved('gate'), up: cx.saved('up') }, {
      down: (dy, input) => cx.linearBackward(['down_proj'], [dy], input),
      gateUp: (dGate, dUp) => cx.linearBackward(['gate_proj', 'up_proj'], [dGate, dUp], () => g.mul(ln2.xhat, ln2.gain)),
    });
    const dh1 = g.add(dh, normBackward(cx, dLn2, ln2, 'post_attention_layernorm.weight'));
    const attention = { q5: cx.saved('q5'), k5: cx.saved('k5'), v5: cx.saved('v5') };
    const dLn1 = selfAttentionBackward(cx, dh1, attention, ATTENTION, attentionShape(cx.cfg), () => g.mul(ln1.xhat, ln1.gain));
    return g.add(dh1, normBackward(cx, dLn1, ln1, 'input_layernorm.weight'));
  },

  finalNorm(cx, h) {
    const norm = rmsNormForward(cx.g, h, cx.tensor('model.norm.weight'), cx.cfg.rmsNormEps);
    return { y: norm.y, backward: (hx, dy) => normBackward(hx, dy, norm.saved, 'model.norm.weight') };
  },
};
