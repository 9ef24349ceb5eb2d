/**
 * The whole training step of a small model as one graph: every layer's forward, the head over
 * row chunks, every layer's backward — the per-layer graphs of layer-forward.ts,
 * layer-backward.ts and head.ts inlined instance by instance, so that the activations the
 * backward needs never leave ONNX Runtime (onnxruntime-node 1.30 copies every output of a run
 * into a fresh ArrayBuffer, preallocated or not: at the tiny shape that was a third of the step).
 *
 *   in:  h [N, C] (embedded rows), labels int64 [N], mask_bias, cos, sin;
 *        each layer's inputs under `L<l>.<name>` (`L0.w.qkv`, `L0.lora.q_proj.A`, `L0.mask.q_proj`);
 *        the head's tensors by HF name
 *   out: `H<c>.loss_sum` and `H<c>.grad.<head tensor>` per head chunk c (rows [c·R, (c+1)·R));
 *        `L<l>.grad.<input>` per layer; dh0 [N, C] (d loss / d h)
 *
 * The ops are the per-layer graphs' own, and the head still runs chunk by chunk with its loss and
 * gradients summed on the host in the same order, so a step gives the layerwise step's results
 * bit for bit (tested). Built for a fixed number of head chunks (the step keeps one session per
 * count it meets). No auxiliary loss (an MoE's load balancing runs layer by layer).
 */
import { GraphBuilder } from '../../model/onnx/index.js';
import { buildHead } from './head.js';
import { buildLayerBackward } from './layer-backward.js';
import { buildLayerForward } from './layer-forward.js';
import { auxStatistics, type TrainingGraphSpec } from './spec.js';
import { InternalError } from '../../core/errors.js';

/** Inputs every layer shares (fed once, unprefixed). */
export const SHARED_LAYER_INPUTS: ReadonlySet<string> = new Set(['mask_bias', 'cos', 'sin', 'token_mask']);

/** The whole-model graph's name for layer l's input or output `name`. */
export function layerName(l: number, name: string): string {
  return `L${l}.${name}`;
}

/** The whole-model graph's name for head chunk c's output `name`. */
export function headName(c: number, name: string): string {
  return `H${c}.${name}`;
}

export interface WholeModelGraph {
  graph: GraphBuilder;
  /**
   * Per layer, its inputs: whole-graph input name → the layer graphs' input name it is fed as
   * (the forward's `L0.w.qkv` and the backward's `L0.bwd.w.qkv` both take `w.qkv`); shared ones excluded.
   */
  layerInputs: Array<Map<string, string>>;
  /** The head graph's tensor inputs (HF names). */
  headInputs: Set<string>;
}

/** `headChunks` ≥ 1 head instances over rows of `headRows`. Every group weight is a float input (a 4-bit base's dequantized on the host). */
export function buildWholeModel(spec: TrainingGraphSpec, headChunks: number, headRows: number): WholeModelGraph {
  if (auxStatistics(spec).length > 0) throw new InternalError('whole-model graph: an auxiliary loss needs the layerwise step');
  if (!(headChunks >= 1)) throw new InternalError(`whole-model graph: ${headChunks} head chunks`);
  const cfg = spec.config, C = cfg.hiddenSize, L = cfg.numHiddenLayers;
  const g = new GraphBuilder(`${cfg.architecture}-whole-step`, { opsets: { '': 21, 'com.microsoft': 1 } });
  const h0 = g.input('h', 'float32', ['tokens', C]);
  const labels = g.input('labels', 'int64', ['tokens']);
  const shared = new Map<string, string>();
  const declared = new Map<string, string>();
  // An input of an inlined graph: declared here once under `name`, with the source's type and dims.
  const declare = (source: GraphBuilder, input: string, name: string, cache: Map<string, string>): string => {
    let v = cache.get(name);
    if (v === undefined) {
      const info = source.inputs.find((i) => i.name === input)!;
      cache.set(name, (v = g.input(name, info.elemType, info.dims ?? [])));
    }
    return v;
  };
  const fwd = buildLayerForward(spec);
  const backward = buildLayerBackward(spec);
  const layerInputs: Array<Map<string, string>> = [];
  const saved: Array<Record<string, string>> = [];
  let h = h0;
  for (let l = 0; l < L; l++) {
    const mine = new Map<string, string>();
    const out = g.inline(fwd.graph, `f${l}/`, (input) => {
      if (input === 'h') return h;
      if (SHARED_LAYER_INPUTS.has(input)) return declare(fwd.graph, input, input, shared);
      mine.set(layerName(l, input), input);
      return declare(fwd.graph, input, layerName(l, input), declared);
    });
    // Backward input saved.<x> ← the forward's value for it.
    saved.push(Object.fromEntries(Object.entries(fwd.saved).map(([input, value]) => [input, out[value]!])));
    layerInputs.push(mine);
    h = out.h_out!;
  }
  const head = buildHead(spec);
  const headInputs = new Set<string>();
  const dhs: string[] = [];
  const BIG = 2 ** 62;
  for (let c = 0; c < headChunks; c++) {
    const rows = (x: string): string => (headChunks === 1 ? x : g.slice(x, [c * headRows], [c === headChunks - 1 ? BIG : (c + 1) * headRows], [0]));
    const hc = rows(h), lc = rows(labels);
    const out = g.inline(head, `h${c}/`, (input) => {
      if (input === 'h') return hc;
      if (input === 'labels') return lc;
      headInputs.add(input);
      return declare(head, input, input, shared);
    });
    for (const o of head.outputs) if (o.name !== 'dh') g.output(out[o.name]!, headName(c, o.name), o.elemType, o.dims);
    dhs.push(out.dh!);
  }
  // dh reaches each backward through Max(dh, dh) (= dh, bit for bit; [N, C], cheap): an exact copy
  // ORT neither removes nor fuses, so nothing fuses across a layer boundary that the layerwise
  // graphs keep apart (without it, small-25m's LoRA gradients differed in the last bits).
  // The backward's inputs typed as the layer backward graph declares them (['tokens', C], …):
  // ORT's MatMul + Add → Gemm fusion (dx = dy·W + the LoRA branch's dx) matches symbolic
  // dimensions, which shape inference loses through the attention's reshapes; without these
  // the fusion did not apply and LoRA gradients differed in the last bits. ORT's common-
  // subexpression elimination does merge the backward's recomputations with the forward's
  // (the dropout masks' Cast, x ⊙ mask, Sigmoid(gate)): the same ops on the same values, so the
  // same bits, and less work.
  const annotated = (source: GraphBuilder, input: string, v: string): string => {
    const info = source.inputs.find((i) => i.name === input)!;
    return g.annotate(v, info.elemType, info.dims ?? []);
  };
  let dh = dhs.length === 1 ? dhs[0]! : g.concat(dhs, 0);
  for (let l = L - 1; l >= 0; l--) {
    const mine = layerInputs[l]!;
    const out = g.inline(backward, `b${l}/`, (input) => {
      if (input === 'dh') return annotated(backward, input, g.op('Max', [dh, dh]));
      if (input.startsWith('saved.')) {
        const v = saved[l]![input];
        if (v === undefined) throw new InternalError(`whole-model graph: layer ${l}'s forward saves no ${input}`);
        return annotated(backward, input, v);
      }
      if (SHARED_LAYER_INPUTS.has(input)) return declare(backward, input, input, shared);
      mine.set(layerName(l, input), input);
      return declare(backward, input, layerName(l, input), declared);
    });
    for (const o of backward.outputs) if (o.name !== 'dh_in') g.output(out[o.name]!, layerName(l, o.name), o.elemType, o.dims);
    dh = out.dh_in!;
  }
  g.output(dh, 'dh0', 'float32', ['tokens', C]);
  return { graph: g, layerInputs, headInputs };
}
