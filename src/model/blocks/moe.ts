/**
 * The sparse mixture-of-experts MLP of qwen2_moe (transformers' Qwen2MoeSparseMoeBlock) as a
 * forward/backward pair. With E experts, k per token, x [N, C]:
 *
 *   P = softmax(router(x))                       [N, E]
 *   v, i = top-k(P)                              [N, k]   (ties to the lower index)
 *   w = v / Σ_k v  (norm_topk_prob)  or  w = v   [N, k]
 *   y = σ(sg(x)) ⊙ shared(x) + Σ_j w_j · expert_{i_j}(x)
 *
 * where every expert and the shared expert is a SwiGLU (swiglu.ts) on the context's linears.
 * Token n's j-th choice is the pair p = n·k + j. Each expert runs only on its pairs' tokens
 * (NonZero over the flattened choices, Gather), so compute is the k/E share of a dense layer; its
 * outputs return to their tokens with ScatterND(add), in expert order as transformers' index_add_.
 *
 * The backward recomputes each expert's gate, up and output instead of saving them (they have a
 * data-dependent number of rows; saved they would be [N·k, F] twice and [N·k, C] per layer): it
 * saves the router probabilities, the choices, and the shared expert's activations.
 *
 * With a token mask (training with the load-balancing loss) the forward also returns, per expert,
 * the unpadded tokens that chose it (`counts` [E]) and their probability sum (`prob_sum` [E]); the
 * backward adds mask_n · d prob_sum_e to dP.
 */
import type { GraphBuilder } from '../onnx/builder.js';
import type { LayerBackward, LayerForward } from './layer-context.js';
import { swigluBackward, swigluForward, type SwigluSaved } from './swiglu.js';

export interface MoeModules {
  /** The router [E, C] (`gate`). */
  router: string;
  /** Expert e's projection (`experts.<e>.gate_proj` …). */
  expert(e: number, projection: 'gate_proj' | 'up_proj' | 'down_proj'): string;
  shared: { gate: string; up: string; down: string };
  /** The shared expert's gate [1, C] (`shared_expert_gate`). */
  sharedGate: string;
}

export interface MoeDims {
  E: number;
  k: number;
  normTopkProb: boolean;
}

export interface MoeSaved {
  probs: string; // [N, E] router probabilities
  choice: string; // [N, k] chosen expert ids, as float32 (the step saves float32 tensors)
  shared: SwigluSaved; // [N, Fs] twice
  sharedOut: string; // [N, C] the shared expert's output before its gate
  sharedGate: string; // [N, 1] the gate's logit
}

/** w [N, k] from the probabilities and choices, and the flattened choices and weights [N·k]. */
function routingWeights(g: GraphBuilder, probs: string, choice: string, normTopk: boolean): { top: string; w: string; sum?: string; flatChoice: string; flatW: string } {
  const top = g.op('GatherElements', [probs, choice], { axis: 1 });
  const sum = normTopk ? g.op('ReduceSum', [top, g.constInt64([-1])], { keepdims: 1 }) : undefined;
  const w = sum ? g.div(top, sum) : top;
  return { top, w, sum, flatChoice: g.reshape(choice, [-1]), flatW: g.reshape(w, [-1]) };
}

/** Expert e's pairs (int64 [n_e], ascending) and their tokens (pair div k). */
function expertRows(g: GraphBuilder, flatChoice: string, e: number, k: number): { pairs: string; tokens: string } {
  const pairs = g.reshape(g.op('NonZero', [g.op('Equal', [flatChoice, g.constInt64([e], [])])]), [-1]);
  return { pairs, tokens: g.div(pairs, g.constInt64([k], [])) };
}

/** Rows of `values` [n, ...] added into zeros shaped like `like` at `index` (int64 [n]). */
function scatterAdd(g: GraphBuilder, like: string, index: string, values: string): string {
  const zeros = g.op('ConstantOfShape', [g.shape(like)]);
  return g.op('ScatterND', [zeros, g.unsqueeze(index, [1]), values], { reduction: 'add' });
}

export function moeForward(cx: LayerForward, x: string, m: MoeModules, d: MoeDims): { y: string; saved: MoeSaved; stats?: { counts: string; prob_sum: string } } {
  const { g } = cx;
  const probs = g.softmax(cx.linear(m.router, x), -1);
  const choice = (g.op('TopK', [probs, g.constInt64([d.k])], { axis: -1, largest: 1, sorted: 1 }, { outputs: 2 }) as [string, string])[1];
  const r = routingWeights(g, probs, choice, d.normTopkProb);

  const shared = swigluForward(g, x, { gate: (v) => cx.linear(m.shared.gate, v), up: (v) => cx.linear(m.shared.up, v), down: (v) => cx.linear(m.shared.down, v) });
  const sharedGate = cx.linear(m.sharedGate, x);
  let y = g.mul(shared.y, g.op('Sigmoid', [sharedGate]));

  const tokens: string[] = [], outputs: string[] = [];
  for (let e = 0; e < d.E; e++) {
    const rows = expertRows(g, r.flatChoice, e, d.k);
    const xe = g.gather(x, rows.tokens);
    const proj = (p: 'gate_proj' | 'up_proj' | 'down_proj') => (v: string) => cx.linear(m.expert(e, p), v, rows.pairs);
    const ye = swigluForward(g, xe, { gate: proj('gate_proj'), up: proj('up_proj'), down: proj('down_proj') }).y;
    tokens.push(rows.tokens);
    outputs.push(g.mul(ye, g.unsqueeze(g.gather(r.flatW, rows.pairs), [1])));
  }
  y = g.add(y, scatterAdd(g, x, g.concat(tokens, 0), g.concat(outputs, 0)));

  const saved: MoeSaved = { probs, choice: g.cast(choice, 'float32'), shared: shared.saved, sharedOut: shared.y, sharedGate };
  if (!cx.tokenMask) return { y, saved };
  // Selections per token and expert [N, E]: Σ_j [choice_j = e].
  const experts = g.op('Range', [g.constInt64([0], []), g.constInt64([d.E], []), g.constInt64([1], [])]);
  const selected = g.op('ReduceSum', [g.cast(g.op('Equal', [g.unsqueeze(choice, [2]), experts]), 'float32'), g.constInt64([1])], { keepdims: 0 });
  const sumTokens = (v: string): string => g.op('ReduceSum', [g.mul(v, cx.tokenMask!), g.constInt64([0])], { keepdims: 0 });
  return { y, saved, stats: { counts: sumTokens(selected), prob_sum: sumTokens(probs) } };
}

/**
 * Backward for dy [N, C]; `input` rebuilds x. Returns dx [N, C]. With `dProbSum` [E] (the
 * load-balancing loss's gradient of this layer's prob_sum) and the token mask, adds its term.
 */
export function moeBackward(cx: LayerBackward, dy: string, s: MoeSaved, m: MoeModules, d: MoeDims, input: () => string, dProbSum?: string): string {
  const { g } = cx;
  const choice = g.cast(s.choice, 'int64');
  const r = routingWeights(g, s.probs, choice, d.normTopkProb);

  // Shared expert: y_s = σ(z) ⊙ shared(x), z = sg(x).
  const sig = g.op('Sigmoid', [s.sharedGate]);
  const dSharedGate = g.mul(g.op('ReduceSum', [g.mul(dy, s.sharedOut), g.constInt64([-1])], { keepdims: 1 }), g.mul(sig, g.sub(g.constFloat([1]), sig)));
  let dx = swigluBackward(g, g.mul(dy, sig), s.shared, {
    down: (dOut, act) => cx.linearBackward([m.shared.down], [dOut], act),
    gateUp: (dGate, dUp) => cx.linearBackward([m.shared.gate, m.shared.up], [dGate, dUp], input),
  });
  dx = g.add(dx, cx.linearBackward([m.sharedGate], [dSharedGate], input));

  // Routed experts, recomputed on their rows: d w_p = ⟨dy_n, expert(x_n)⟩, and the expert's backward with w_p · dy_n.
  const x = input();
  const tokens: string[] = [], dxs: string[] = [], pairs: string[] = [], dws: string[] = [];
  for (let e = 0; e < d.E; e++) {
    const rows = expertRows(g, r.flatChoice, e, d.k);
    const xe = g.gather(x, rows.tokens), dye = g.gather(dy, rows.tokens);
    const gate = cx.linear(m.expert(e, 'gate_proj'), xe, rows.pairs), up = cx.linear(m.expert(e, 'up_proj'), xe, rows.pairs);
    const act = g.mul(g.mul(gate, g.op('Sigmoid', [gate])), up);
    const ye = cx.linear(m.expert(e, 'down_proj'), act, rows.pairs);
    dws.push(g.op('ReduceSum', [g.mul(dye, ye), g.constInt64([-1])], { keepdims: 0 }));
    pairs.push(rows.pairs);
    const dyw = g.mul(dye, g.unsqueeze(g.gather(r.flatW, rows.pairs), [1]));
    dxs.push(swigluBackward(g, dyw, { gate, up }, {
      down: (dOut) => cx.linearBackward([m.expert(e, 'down_proj')], [dOut], () => act, rows.pairs),
      gateUp: (dGate, dUp) => cx.linearBackward([m.expert(e, 'gate_proj'), m.expert(e, 'up_proj')], [dGate, dUp], () => xe, rows.pairs),
    }));
    tokens.push(rows.tokens);
  }
  dx = g.add(dx, scatterAdd(g, x, g.concat(tokens, 0), g.concat(dxs, 0)));

  // Routing weights → the top-k probabilities (through the renormalisation) → P → router logits.
  const dw = g.reshape(scatterAdd(g, r.flatW, g.concat(pairs, 0), g.concat(dws, 0)), [-1, d.k]);
  const dTop = r.sum ? g.div(g.sub(dw, g.op('ReduceSum', [g.mul(dw, r.w), g.constInt64([-1])], { keepdims: 1 })), r.sum) : dw;
  let dProbs = g.op('ScatterElements', [g.op('ConstantOfShape', [g.shape(s.probs)]), choice, dTop], { axis: 1 });
  if (dProbSum && cx.tokenMask) dProbs = g.add(dProbs, g.mul(cx.tokenMask, dProbSum));
  const dLogits = g.mul(s.probs, g.sub(dProbs, g.op('ReduceSum', [g.mul(dProbs, s.probs), g.constInt64([-1])], { keepdims: 1 })));
  return g.add(dx, cx.linearBackward([m.router], [dLogits], input));
}
