/**
 * The MoE block (blocks/moe.ts) checked like every block: forward against the float64 reference
 * (reference/decoder.ts referenceMoe) and backward against central finite differences, for the
 * input, the router, every expert's and the shared expert's weights, and the load-balancing
 * loss's path (d prob_sum → router). The block's output here is [y, counts, prob_sum] flattened.
 * Gradient errors are ≤ 1.2e-7 here; the tolerance 2e-6 is tight because the routing path is a
 * small part of the router's and x's gradients (dropping norm_topk_prob's Σ dw·w term moves them
 * by 1e-5 and 5e-5 relative, which 1e-4 would let through).
 */
import { describe, it } from 'vitest';
import type { LlamaConfig } from '../../../src/model/config.js';
import type { LayerBackward, LayerForward } from '../../../src/model/blocks/layer-context.js';
import { linearBackward, linearForward } from '../../../src/model/blocks/linear.js';
import { moeBackward, moeForward, type MoeModules } from '../../../src/model/blocks/moe.js';
import { linear } from '../../../src/model/reference/kernels.js';
import { referenceMoe, type RouterStats } from '../../../src/model/reference/decoder.js';
import { checkBlock, type BlockInput } from './block-check.js';

const N = 6, C = 8, E = 4, F = 5, FS = 7;
const MASK = [1, 1, 1, 1, 0, 1]; // token 4 is padding: out of the statistics, still routed

const MODULES: MoeModules = {
  router: 'gate',
  expert: (e, p) => `experts.${e}.${p}`,
  shared: { gate: 'shared_expert.gate_proj', up: 'shared_expert.up_proj', down: 'shared_expert.down_proj' },
  sharedGate: 'shared_expert_gate',
};

function config(k: number, normTopkProb: boolean): LlamaConfig {
  return {
    architecture: 'qwen2_moe', vocabSize: 10, hiddenSize: C, intermediateSize: 9, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 4,
    rmsNormEps: 1e-6, ropeTheta: 1e4, maxPositionEmbeddings: 16, tieWordEmbeddings: false, attentionBias: true, eosTokenId: [2], torchDtype: 'float32',
    moe: { numExperts: E, numExpertsPerTok: k, moeIntermediateSize: F, sharedExpertIntermediateSize: FS, normTopkProb, routerAuxLossCoef: 0.01, outputRouterLogits: true },
  };
}

/** Every linear of the block with its [out, in]. */
const SHAPES: Record<string, [number, number]> = {
  gate: [E, C],
  'shared_expert.gate_proj': [FS, C], 'shared_expert.up_proj': [FS, C], 'shared_expert.down_proj': [C, FS], shared_expert_gate: [1, C],
  ...Object.fromEntries(Array.from({ length: E }, (_, e) => [[`experts.${e}.gate_proj`, [F, C]], [`experts.${e}.up_proj`, [F, C]], [`experts.${e}.down_proj`, [C, F]]]).flat()),
};
const weightInput = (m: string) => `w_${m.replaceAll('.', '_')}`;

async function checkMoe(k: number, normTopkProb: boolean, seed: number): Promise<void> {
  const cfg = config(k, normTopkProb);
  const inputs: Record<string, BlockInput> = { x: { dims: [N, C] }, token_mask: { dims: [N, 1], data: Float64Array.from(MASK), constant: true } };
  for (const [m, shape] of Object.entries(SHAPES)) inputs[weightInput(m)] = { dims: shape };
  await checkBlock({
    inputs,
    outDims: [N * C + 2 * E],
    build(g, i) {
      const W = (m: string) => i[weightInput(m)]!;
      const linearOf = (m: string, x: string) => linearForward(g, x, { float: W(m) });
      const fwd = { g, cfg, tokenMask: i.token_mask!, linear: linearOf } as unknown as LayerForward;
      const f = moeForward(fwd, i.x!, MODULES, { E, k, normTopkProb });
      const y = g.concat([g.reshape(f.y, [-1]), f.stats!.counts, f.stats!.prob_sum], 0);
      return {
        y,
        backward(dy) {
          const grads: Record<string, string> = {};
          const dyMain = g.reshape(g.slice(dy, [0], [N * C], [0]), [N, C]);
          const dProbSum = g.slice(dy, [N * C + E], [N * C + 2 * E], [0]);
          const bwd = {
            g, cfg, tokenMask: i.token_mask!, linear: linearOf,
            auxGrad: (name: string) => (name === 'prob_sum' ? dProbSum : undefined),
            linearBackward(modules: readonly string[], dys: string[], input: () => string) {
              const x = input();
              const dxs = modules.map((m, j) => {
                const b = linearBackward(g, dys[j]!, W(m), { x });
                grads[weightInput(m)] = b.dW!;
                return b.dx;
              });
              return dxs.reduce((a, b) => g.add(a, b));
            },
          } as unknown as LayerBackward;
          grads.x = moeBackward(bwd, dyMain, f.saved, MODULES, { E, k, normTopkProb }, () => i.x!, dProbSum);
          return grads;
        },
      };
    },
    reference(v) {
      const proj = (x: Float64Array, rows: number, _l: number, m: string) => linear(x, rows, v[weightInput(m)]!, SHAPES[m]![0], SHAPES[m]![1]);
      const stats: RouterStats[] = [];
      const y = referenceMoe(cfg, proj, 0, v.x!, MASK, stats);
      return Float64Array.from([...y, ...stats[0]!.counts, ...stats[0]!.probSum]);
    },
  }, seed, { forward: 1e-5, gradient: 2e-6 });
}

describe('MoE block (qwen2_moe)', () => {
  it('top-2 of 4, weights as the router gives them: forward, counts and prob_sum equal the float64 reference; every gradient matches central finite differences', async () => {
    await checkMoe(2, false, 21);
  });

  it('top-3 of 4 with norm_topk_prob (the renormalisation\'s backward)', async () => {
    await checkMoe(3, true, 22);
  });
});
