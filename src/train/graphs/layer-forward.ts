/**
 * One decoder layer's training forward (llm.c's layout on ONNX Runtime): the architecture's
 * layerForward with a context whose linears run per fused group (one Gemm, then
 * Split) with LoRA branches and dropout masks, and whose attention sees the whole sequence.
 *
 *   in:  h [N, C], mask_bias, cos/sin, the layer's tensors, weights, lora.*, mask.*
 *   out: h_out [N, C] and the saved activations (savedTensors), under their own value names;
 *        with an auxiliary loss (spec.auxLoss) also aux.<statistic>
 *
 * Every layer of a model has the same shapes, so one forward session serves all layers with the
 * weights as inputs (a 4-bit base's dequantized on the host: layer-inputs.ts).
 */
import { attentionForward } from '../../model/blocks/attention.js';
import type { LayerForward } from '../../model/blocks/layer-context.js';
import { linearForward, splitColumns } from '../../model/blocks/linear.js';
import { loraForward } from '../../model/blocks/lora.js';
import { GraphBuilder } from '../../model/onnx/index.js';
import { LayerInputs } from './layer-inputs.js';
import { auxStatistics, groupOf, isRouted, savedTensors, type TrainingGraphSpec } from './spec.js';
import { InternalError } from '../../core/errors.js';

/**
 * The forward graph and `saved`: for each backward input name (`saved.<activation>`), the value
 * name the forward outputs it under (an output under another name would cost an Identity copy).
 */
export function buildLayerForward(spec: TrainingGraphSpec): { graph: GraphBuilder; saved: Record<string, string> } {
  const cfg = spec.config;
  const H = cfg.numAttentionHeads, KVH = cfg.numKeyValueHeads, D = cfg.headDim;
  const g = new GraphBuilder(`${cfg.architecture}-layer-forward`, { opsets: { '': 21, 'com.microsoft': 1 } });
  const h = g.input('h', 'float32', ['tokens', cfg.hiddenSize]);
  const inputs = new LayerInputs(g, spec);
  // A group runs once, on the first module asked for; the others take their Split part.
  const fused = new Map<string, { x: string; parts: string[] }>();
  const loraU: Record<string, string> = {};
  const cx: LayerForward = {
    g, cfg, rope: inputs.rope, tokenMask: inputs.tokenMask,
    tensor: (name) => inputs.tensor(name),
    toHeads: (x, heads) => inputs.toHeads(x, heads),
    fromHeads: (x, heads) => inputs.fromHeads(x, heads),
    attend: (q, k, v) => attentionForward(g, q, k, v, inputs.maskBias, { H, KVH, G: H / KVH, D }),
    linear(module, x, rows) {
      const { group, index } = groupOf(inputs.groups, module);
      let run = fused.get(group.name);
      if (!run) fused.set(group.name, (run = { x, parts: splitColumns(g, linearForward(g, x, inputs.weight(group)), group.widths) }));
      else if (run.x !== x) throw new InternalError(`layer graph: ${module} is fused with ${group.modules.join(', ')} but gets another input`);
      const lora = inputs.lora(module, rows);
      if (!lora) return run.parts[index]!;
      const branch = loraForward(g, x, run.parts[index]!, lora);
      if (!isRouted(spec, module)) loraU[module] = branch.u; // an expert's is recomputed in the backward
      return branch.y;
    },
  };
  const layer = spec.arch.layerForward(cx, h);
  g.output(layer.h, 'h_out', 'float32', ['tokens', cfg.hiddenSize]);
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(layer.saved)) values[`saved.${name}`] = value;
  for (const [module, u] of Object.entries(loraU)) values[`saved.u.${module}`] = u;
  for (const s of savedTensors(spec)) {
    const value = values[`saved.${s.name}`];
    if (value === undefined) throw new InternalError(`layer graph: the ${spec.arch.modelType} layer did not return the saved activation ${s.name}`);
    g.output(value, value, 'float32', s.dims);
  }
  for (const stat of auxStatistics(spec)) {
    const value = layer.aux?.[stat.name];
    if (value === undefined) throw new InternalError(`layer graph: the ${spec.arch.modelType} layer did not return the auxiliary-loss statistic ${stat.name}`);
    g.output(value, `aux.${stat.name}`, 'float32', [stat.size]);
  }
  return { graph: g, saved: values };
}
