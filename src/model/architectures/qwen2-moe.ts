/**
 * qwen2_moe (`Qwen2MoeForCausalLM`, Qwen1.5-MoE): qwen2's attention (q/k/v biases, GQA), and in
 * place of the dense MLP the sparse MoE block (blocks/moe.ts): a softmax router over E experts,
 * each token through its top k (weights renormalised with norm_topk_prob), plus a shared expert
 * gated by σ(shared_expert_gate(x)). Every layer sparse (config.ts refuses other layouts).
 *
 * Modules are named as in the checkpoint under `mlp.` (transformers 5 fuses the experts in memory
 * but saves, and PEFT targets, this layout): `gate` (the router), `experts.<e>.{gate,up,down}_proj`,
 * `shared_expert.{gate,up,down}_proj`, `shared_expert_gate`. The router and the shared gate stay
 * float32 in an int4 model (a 4-bit router would move top-k choices).
 *
 * In training the load-balancing loss (transformers' load_balancing_loss_func) is added when
 * output_router_logits is set, weighted by router_aux_loss_coef: over all L layers and the M
 * unpadded tokens, aux = E · Σ_e (Σ_l counts_l,e / LM) · (Σ_l prob_sum_l,e / LM), whose gradient
 * w.r.t. each layer's prob_sum_e is E · Σ_l counts_l,e / (LM)² (the counts are not differentiable).
 */
import type { LlamaConfig, MoeSettings } from '../config.js';
import { moeBackward, moeForward, type MoeModules } from '../blocks/moe.js';
import type { DecoderArchitecture, SavedActivation } from './architecture.js';
import { llama, llamaLayer, type LlamaMlp } from './llama.js';
import { InternalError } from '../../core/errors.js';

type Projection = 'gate_proj' | 'up_proj' | 'down_proj';
const PROJECTIONS: readonly Projection[] = ['gate_proj', 'up_proj', 'down_proj'];
const ATTENTION_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

const MODULES: MoeModules = {
  router: 'gate',
  expert: (e, p) => `experts.${e}.${p}`,
  shared: { gate: 'shared_expert.gate_proj', up: 'shared_expert.up_proj', down: 'shared_expert.down_proj' },
  sharedGate: 'shared_expert_gate',
};

function moeSettings(cfg: LlamaConfig): MoeSettings {
  if (!cfg.moe) throw new InternalError(`qwen2_moe layer: config of ${cfg.architecture} has no MoE settings`);
  return cfg.moe;
}

function linearModules(cfg: LlamaConfig): string[] {
  const { numExperts: E } = moeSettings(cfg);
  const experts = Array.from({ length: E }, (_, e) => PROJECTIONS.map((p) => MODULES.expert(e, p))).flat();
  return [...ATTENTION_MODULES, MODULES.router, ...experts, MODULES.shared.gate, MODULES.shared.up, MODULES.shared.down, MODULES.sharedGate];
}

function linearGroups(cfg: LlamaConfig): Record<string, string[]> {
  const groups: Record<string, string[]> = { qkv: ['q_proj', 'k_proj', 'v_proj'], o: ['o_proj'], router: [MODULES.router] };
  for (let e = 0; e < moeSettings(cfg).numExperts; e++) {
    groups[`expert${e}_gate_up`] = [MODULES.expert(e, 'gate_proj'), MODULES.expert(e, 'up_proj')];
    groups[`expert${e}_down`] = [MODULES.expert(e, 'down_proj')];
  }
  return { ...groups, shared_gate_up: [MODULES.shared.gate, MODULES.shared.up], shared_down: [MODULES.shared.down], shared_expert_gate: [MODULES.sharedGate] };
}

/** [out, in] of an MLP module (attention's are llama's). */
function mlpShape(cfg: LlamaConfig, module: string): [number, number] | undefined {
  const C = cfg.hiddenSize, m = moeSettings(cfg);
  if (module === MODULES.router) return [m.numExperts, C];
  if (module === MODULES.sharedGate) return [1, C];
  const width = module.startsWith('shared_expert.') ? m.sharedExpertIntermediateSize : module.startsWith('experts.') ? m.moeIntermediateSize : undefined;
  if (width === undefined) return undefined;
  return module.endsWith('down_proj') ? [C, width] : [width, C];
}

/** The MoE block as a llama-family layer's MLP. */
const MOE_MLP: LlamaMlp = {
  saved(cfg): SavedActivation[] {
    const m = moeSettings(cfg);
    return [
      { name: 'router_probs', dims: ['tokens', m.numExperts] },
      { name: 'router_choice', dims: ['tokens', m.numExpertsPerTok] },
      { name: 'shared_gate', dims: ['tokens', m.sharedExpertIntermediateSize] },
      { name: 'shared_up', dims: ['tokens', m.sharedExpertIntermediateSize] },
      { name: 'shared_out', dims: ['tokens', cfg.hiddenSize] },
      { name: 'shared_gate_logit', dims: ['tokens', 1] },
    ];
  },
  forward(cx, x) {
    const r = moeForward(cx, x, MODULES, dims(cx.cfg));
    const saved = { router_probs: r.saved.probs, router_choice: r.saved.choice, shared_gate: r.saved.shared.gate, shared_up: r.saved.shared.up, shared_out: r.saved.sharedOut, shared_gate_logit: r.saved.sharedGate };
    return { y: r.y, saved, aux: r.stats };
  },
  backward(cx, dy, input) {
    const saved = {
      probs: cx.saved('router_probs'), choice: cx.saved('router_choice'), shared: { gate: cx.saved('shared_gate'), up: cx.saved('shared_up') },
      sharedOut: cx.saved('shared_out'), sharedGate: cx.saved('shared_gate_logit'),
    };
    return moeBackward(cx, dy, saved, MODULES, dims(cx.cfg), input, cx.auxGrad('prob_sum'));
  },
};

export const qwen2Moe: DecoderArchitecture = {
  ...llama,
  modelType: 'qwen2_moe',
  linearModules,
  linearGroups,
  linearShape: (cfg, module) => mlpShape(cfg, module) ?? llama.linearShape(cfg, module),
  linearPath: (layer, module) => (ATTENTION_MODULES.includes(module) ? llama.linearPath(layer, module) : `model.layers.${layer}.mlp.${module}`),
  unquantized: [MODULES.router, MODULES.sharedGate],
  routing: {
    pairsPerToken: (cfg) => moeSettings(cfg).numExpertsPerTok,
    experts: (cfg) => moeSettings(cfg).numExperts,
    maskKind: (module) => (/^experts\.\d+\./.test(module) ? module.replace(/^experts\.\d+\./, 'experts.') : undefined),
  },

  ...llamaLayer(MOE_MLP),

  auxLoss: {
    statistics: (cfg) => [{ name: 'counts', size: moeSettings(cfg).numExperts }, { name: 'prob_sum', size: moeSettings(cfg).numExperts }],
    weight: (cfg) => (moeSettings(cfg).outputRouterLogits ? moeSettings(cfg).routerAuxLossCoef : 0),
    combine(cfg, layers, tokens) {
      const E = moeSettings(cfg).numExperts, rows = layers.length * tokens;
      if (rows === 0) return { loss: 0, grads: layers.map(() => ({ prob_sum: new Float32Array(E) })) }; // no unpadded token: no statistics
      const counts = new Float64Array(E), probs = new Float64Array(E);
      for (const s of layers) for (let e = 0; e < E; e++) {
        counts[e] += s.counts![e]!;
        probs[e] += s.prob_sum![e]!;
      }
      let loss = 0;
      for (let e = 0; e < E; e++) loss += (counts[e]! / rows) * (probs[e]! / rows);
      const grad = Float32Array.from(counts, (c) => (E * c) / (rows * rows));
      return { loss: E * loss, grads: layers.map(() => ({ prob_sum: grad })) };
    },
  },
};

function dims(cfg: LlamaConfig) {
  const m = moeSettings(cfg);
  return { E: m.numExperts, k: m.numExpertsPerTok, normTopkProb: m.normTopkProb };
}
