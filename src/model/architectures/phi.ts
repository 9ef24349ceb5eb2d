/**
 * phi (`PhiForCausalLM`, Phi-2): one LayerNorm feeds attention and the MLP in parallel,
 *
 *   x = LayerNorm(h)
 *   h' = h + dense(attn(rope_R(q(x)), rope_R(k(x)), v(x))) + fc2(gelu_new(fc1(x)))
 *
 * with biases on q/k/v/dense/fc1/fc2, RoPE on the first R = ⌊partial_rotary_factor · D⌋ features
 * of each head, no GQA in Phi-2 (num_key_value_heads, where set, is honoured), a final LayerNorm
 * and an LM head with a bias. Dropouts (resid_pdrop, embd_pdrop) are not applied in training
 * (docs/training.md).
 */
import type { LlamaConfig } from '../config.js';
import { geluMlpBackward, geluMlpForward } from '../blocks/gelu-mlp.js';
import type { GraphContext, HeadBackward } from '../blocks/layer-context.js';
import { layerNormBackward, layerNormForward, type LayerNormSaved } from '../blocks/layernorm.js';
import { selfAttentionBackward, selfAttentionForward, type AttentionModules, type SelfAttentionShape } from '../blocks/self-attention.js';
import type { GraphBuilder } from '../onnx/builder.js';
import type { DecoderArchitecture, SavedActivation } from './architecture.js';
import { InternalError } from '../../core/errors.js';

/** The linear modules of a phi layer, in HF order (PEFT's names for phi). */
export const PHI_MODULES = ['q_proj', 'k_proj', 'v_proj', 'dense', 'fc1', 'fc2'] as const;
type PhiModule = (typeof PHI_MODULES)[number];

const GROUPS = { qkv: ['q_proj', 'k_proj', 'v_proj'], dense: ['dense'], fc1: ['fc1'], fc2: ['fc2'] };
const ATTENTION: AttentionModules = { q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'dense' };

function phiSettings(cfg: LlamaConfig): NonNullable<LlamaConfig['phi']> {
  if (!cfg.phi) throw new InternalError(`phi layer: config of ${cfg.architecture} has no phi settings`);
  return cfg.phi;
}

function rotaryDim(cfg: LlamaConfig): number {
  return Math.floor(cfg.headDim * phiSettings(cfg).partialRotaryFactor);
}

function attentionShape(cfg: LlamaConfig): SelfAttentionShape {
  return { H: cfg.numAttentionHeads, KVH: cfg.numKeyValueHeads, D: cfg.headDim, rotary: rotaryDim(cfg) };
}

function linearShape(cfg: LlamaConfig, module: PhiModule): [number, number] {
  const C = cfg.hiddenSize, D = cfg.headDim, H = cfg.numAttentionHeads, KVH = cfg.numKeyValueHeads, F = cfg.intermediateSize;
  switch (module) {
    case 'q_proj': return [H * D, C];
    case 'k_proj': return [KVH * D, C];
    case 'v_proj': return [KVH * D, C];
    case 'dense': return [C, H * D];
    case 'fc1': return [F, C];
    case 'fc2': return [C, F];
  }
}

/** A LayerNorm's forward over `h` with the tensors `<prefix>.weight` / `<prefix>.bias`. */
function norm(cx: GraphContext, h: string, prefix: string) {
  return layerNormForward(cx.g, h, cx.tensor(`${prefix}.weight`), cx.tensor(`${prefix}.bias`), phiSettings(cx.cfg).layerNormEps, cx.cfg.hiddenSize);
}

/** LayerNorm's backward, with gain and bias gradients recorded in full fine-tuning. */
function normBackward(cx: { g: GraphBuilder; wantsTensorGrads: boolean; tensorGrad(name: string, grad: string): void }, dy: string, s: LayerNormSaved, prefix: string): string {
  const b = layerNormBackward(cx.g, dy, s, { paramGrads: cx.wantsTensorGrads });
  if (b.dGain) cx.tensorGrad(`${prefix}.weight`, b.dGain);
  if (b.dBias) cx.tensorGrad(`${prefix}.bias`, b.dBias);
  return b.dx;
}

export const phi: DecoderArchitecture = {
  modelType: 'phi',
  linearModules: () => PHI_MODULES,
  linearGroups: () => GROUPS,
  linearShape: (cfg, module) => linearShape(cfg, module as PhiModule),
  linearPath: (layer, module) => `model.layers.${layer}.${module === 'fc1' || module === 'fc2' ? 'mlp' : 'self_attn'}.${module}`,
  linearBias: () => true,
  layerTensors: (cfg) => [
    { name: 'input_layernorm.weight', shape: [cfg.hiddenSize] },
    { name: 'input_layernorm.bias', shape: [cfg.hiddenSize] },
  ],
  embedding: 'model.embed_tokens.weight',
  headTensors: (cfg) => [
    { name: 'model.final_layernorm.weight', shape: [cfg.hiddenSize] },
    { name: 'model.final_layernorm.bias', shape: [cfg.hiddenSize] },
    { name: 'lm_head.bias', shape: [cfg.vocabSize] },
  ],
  lmHead: (cfg) => ({ weight: cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight', bias: 'lm_head.bias' }),
  hiddenActivations: ['gelu_new', 'gelu_pytorch_tanh'],
  rotaryDim,

  savedActivations(cfg): SavedActivation[] {
    const { hiddenSize: C, intermediateSize: F, numKeyValueHeads: KVH, numAttentionHeads: H, headDim: D } = cfg;
    return [
      { name: 'ln_xhat', dims: ['tokens', C] },
      { name: 'ln_rinv', dims: ['tokens', 1] },
      { name: 'q5', dims: ['batch', KVH, H / KVH, 'seq', D] },
      { name: 'k5', dims: ['batch', KVH, 1, 'seq', D] },
      { name: 'v5', dims: ['batch', KVH, 1, 'seq', D] },
      { name: 'fc1', dims: ['tokens', F] },
    ];
  },

  layerForward(cx, h) {
    const { g } = cx;
    const ln = norm(cx, h, 'input_layernorm');
    const att = selfAttentionForward(cx, ln.y, ATTENTION, attentionShape(cx.cfg));
    const mlp = geluMlpForward(g, ln.y, { fc1: (x) => cx.linear('fc1', x), fc2: (x) => cx.linear('fc2', x) });
    const saved = { ln_xhat: ln.saved.xhat, ln_rinv: ln.saved.rinv, q5: att.saved.q5, k5: att.saved.k5, v5: att.saved.v5, probs: att.saved.probs, fc1: mlp.saved.pre };
    return { h: g.add(g.add(h, att.y), mlp.y), saved };
  },

  layerBackward(cx, dh) {
    const { g } = cx;
    const ln: LayerNormSaved = { xhat: cx.saved('ln_xhat'), rinv: cx.saved('ln_rinv'), gain: cx.tensor('input_layernorm.weight') };
    // The norm's output feeds both branches; rebuilt once from x̂, gain and bias where a gradient needs it.
    let lnY: string | undefined;
    const input = (): string => (lnY ??= g.add(g.mul(ln.xhat, ln.gain), cx.tensor('input_layernorm.bias')));
    const dMlp = geluMlpBackward(g, dh, { pre: cx.saved('fc1') }, {
      fc2: (dy, act) => cx.linearBackward(['fc2'], [dy], act),
      fc1: (dPre) => cx.linearBackward(['fc1'], [dPre], input),
    });
    const attention = { q5: cx.saved('q5'), k5: cx.saved('k5'), v5: cx.saved('v5') };
    const dAtt = selfAttentionBackward(cx, dh, attention, ATTENTION, attentionShape(cx.cfg), input);
    return g.add(dh, normBackward(cx, g.add(dAtt, dMlp), ln, 'input_layernorm'));
  },

  finalNorm(cx, h) {
    const ln = norm(cx, h, 'model.final_layernorm');
    return { y: ln.y, backward: (hx: HeadBackward, dy: string) => normBackward(hx, dy, ln.saved, 'model.final_layernorm') };
  },
};
