/**
 * One decoder layer's backward: the architecture's layerBackward with a context whose linear
 * backward runs per fused group (dx = dy·W on the float weight, a 4-bit base's dequantized on the
 * host), adds each LoRA branch's data-gradient and returns its dA, dB as outputs.
 *
 *   in:  dh [N, C] (gradient of h_out), saved.*, the forward's other inputs (float weights)
 *   out: dh_in [N, C], grad.lora.<module>.A [r, in], grad.lora.<module>.B [out, r]
 *        (full fine-tuning also grad.w.<group> [rows, in], grad.b.<group> [rows] and
 *        grad.<layer tensor>; no LoRA)
 *
 * A linear's input is rebuilt (from the saved activations) only where a gradient needs it: a LoRA
 * branch's dA, or full fine-tuning's dW = dyᵀ·x. An MoE expert's linears run forward again here
 * (cx.linear, on the group's float weight with the LoRA branch) and their LoRA bottleneck u is
 * taken from that recomputation; with an auxiliary loss the backward reads aux_grad.<statistic>.
 */
import type { LayerBackward } from '../../model/blocks/layer-context.js';
import { linearBackward, linearForward, splitColumns } from '../../model/blocks/linear.js';
import { loraBackward, loraForward } from '../../model/blocks/lora.js';
import { GraphBuilder } from '../../model/onnx/index.js';
import { LayerInputs } from './layer-inputs.js';
import { groupOf, isRouted, savedTensors, type TrainingGraphSpec } from './spec.js';
import { InternalError } from '../../core/errors.js';

export function buildLayerBackward(spec: TrainingGraphSpec): GraphBuilder {
  const cfg = spec.config;
  const C = cfg.hiddenSize;
  const g = new GraphBuilder(`${cfg.architecture}-layer-backward`, { opsets: { '': 21, 'com.microsoft': 1 } });
  const dh = g.input('dh', 'float32', ['tokens', C]);
  const inputs = new LayerInputs(g, spec);
  const saved = new Map(savedTensors(spec).map((s) => [s.name, g.input(`saved.${s.name}`, 'float32', s.dims)]));
  const full = spec.fullGrads;
  const grads: Array<{ value: string; name: string; dims: number[] }> = [];
  const tensorShape = (name: string): number[] => spec.arch.layerTensors(cfg).find((t) => t.name === name)!.shape;
  // Forward recomputations (an MoE expert's linears): a group runs once per input; u by module and input.
  const fused = new Map<string, string[]>();
  const recomputedU = new Map<string, string>();
  const cx: LayerBackward = {
    g, cfg, rope: inputs.rope, maskBias: inputs.maskBias, wantsTensorGrads: full, tokenMask: inputs.tokenMask, savedProbs: saved.get('probs'),
    auxGrad: (name) => inputs.auxGrad(name),
    linear(module, x, rows) {
      const { group, index } = groupOf(inputs.groups, module);
      const key = `${group.name}:${x}`;
      let parts = fused.get(key);
      if (!parts) fused.set(key, (parts = splitColumns(g, linearForward(g, x, inputs.weight(group)), group.widths)));
      const lora = inputs.lora(module, rows);
      if (!lora) return parts[index]!;
      const branch = loraForward(g, x, parts[index]!, lora);
      recomputedU.set(`${module}:${x}`, branch.u);
      return branch.y;
    },
    tensor: (name) => inputs.tensor(name),
    toHeads: (x, heads) => inputs.toHeads(x, heads),
    fromHeads: (x, heads) => inputs.fromHeads(x, heads),
    saved(name) {
      const v = saved.get(name);
      if (v === undefined) throw new InternalError(`layer graph: ${name} is not a saved activation of ${spec.arch.modelType}`);
      return v;
    },
    tensorGrad: (name, grad) => void grads.push({ value: grad, name: `grad.${name}`, dims: tensorShape(name) }),
    linearBackward(modules, dys, input, rows) {
      const { group } = groupOf(inputs.groups, modules[0]!);
      if (modules.join() !== group.modules.join()) throw new InternalError(`layer graph: the backward of [${modules.join(', ')}] must cover its group [${group.modules.join(', ')}]`);
      const x = full || modules.some((m) => spec.adapted.includes(m)) ? input() : undefined;
      const dyAll = dys.length === 1 ? dys[0]! : g.concat(dys, 1);
      const base = linearBackward(g, dyAll, inputs.floatWeight(group), { x: full ? x : undefined, bias: group.bias });
      if (base.dW) grads.push({ value: base.dW, name: `grad.w.${group.name}`, dims: [group.rows, group.inDim] });
      if (base.db) grads.push({ value: base.db, name: `grad.b.${group.name}`, dims: [group.rows] });
      let dx = base.dx;
      modules.forEach((m, i) => {
        const lora = inputs.lora(m, rows);
        if (!lora) return;
        const u = isRouted(spec, m) ? (recomputedU.get(`${m}:${x}`) ?? g.op('Gemm', [lora.mask ? g.mul(x!, g.cast(lora.mask, 'float32')) : x!, lora.A], { transB: 1 })) : cx.saved(`u.${m}`);
        const branch = loraBackward(g, dys[i]!, lora, { x: x!, u }, dx);
        dx = branch.dx;
        const [out, inDim] = spec.arch.linearShape(cfg, m);
        grads.push({ value: branch.dA, name: `grad.lora.${m}.A`, dims: [spec.r, inDim] }, { value: branch.dB, name: `grad.lora.${m}.B`, dims: [out, spec.r] });
      });
      return dx;
    },
  };
  g.output(spec.arch.layerBackward(cx, dh), 'dh_in', 'float32', ['tokens', C]);
  for (const gr of grads) g.output(gr.value, gr.name, 'float32', gr.dims);
  return g;
}
