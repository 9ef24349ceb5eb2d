/**
 * The head's training graph: the architecture's final norm, the LM head and the summed
 * cross-entropy over labelled tokens, with d loss_sum / d h.
 *
 *   in:  h [N, C], labels int64 [N] (−100 = no loss), the head's tensors by HF name
 *        (`model.norm.weight`; the LM head [V, C], which is the embedding when tied; its bias)
 *   out: loss_sum [], dh [N, C]; full fine-tuning: grad.<tensor> for each of them
 *
 * The cross-entropy's gradient leaves its row mask to the [N, C] side of the LM head's backward
 * (blocks/cross-entropy.ts): dh = (dLogits · W) ⊙ rows, dW = dLogitsᵀ · (y ⊙ rows).
 */
import { crossEntropyBackward, crossEntropyForward } from '../../model/blocks/cross-entropy.js';
import type { HeadBackward } from '../../model/blocks/layer-context.js';
import { linearBackward, linearForward } from '../../model/blocks/linear.js';
import { GraphBuilder } from '../../model/onnx/index.js';
import type { TrainingGraphSpec } from './spec.js';
import { InternalError } from '../../core/errors.js';

export function buildHead(spec: Pick<TrainingGraphSpec, 'config' | 'arch' | 'fullGrads'>): GraphBuilder {
  const { config: cfg, arch } = spec;
  const C = cfg.hiddenSize, V = cfg.vocabSize;
  const g = new GraphBuilder(`${cfg.architecture}-head`, { opsets: { '': 21 } });
  const h = g.input('h', 'float32', ['tokens', C]);
  const labels = g.input('labels', 'int64', ['tokens']);
  const lm = arch.lmHead(cfg);
  const lmHead = lm.weight;
  const shapes = new Map([...arch.headTensors(cfg).map((t): [string, number[]] => [t.name, t.shape]), [lmHead, [V, C]]]);
  const declared = new Map<string, string>();
  const tensor = (name: string): string => {
    const shape = shapes.get(name);
    if (!shape) throw new InternalError(`head graph: ${name} is not a head tensor of ${arch.modelType}`);
    if (!declared.has(name)) declared.set(name, g.input(name, 'float32', shape));
    return declared.get(name)!;
  };
  const cx: HeadBackward = {
    g, cfg, tensor, wantsTensorGrads: spec.fullGrads,
    tensorGrad: (name, grad) => void g.output(grad, `grad.${name}`, 'float32', shapes.get(name)!),
  };
  const norm = arch.finalNorm(cx, h);
  const head = tensor(lmHead);
  const bias = lm.bias === undefined ? undefined : tensor(lm.bias);
  const ce = crossEntropyForward(g, linearForward(g, norm.y, { float: head, bias }), labels);
  g.output(ce.lossSum, 'loss_sum', 'float32', []);
  const { dLogits, rowWeight } = crossEntropyBackward(g, ce.saved);
  const headB = linearBackward(g, dLogits, head, { x: spec.fullGrads ? g.mul(norm.y, rowWeight) : undefined });
  g.output(norm.backward(cx, g.mul(headB.dx, rowWeight)), 'dh', 'float32', ['tokens', C]);
  if (headB.dW) g.output(headB.dW, `grad.${lmHead}`, 'float32', [V, C]);
  // An LM head bias: db = Σ_rows rows ⊙ dLogits [V].
  if (lm.bias !== undefined && spec.fullGrads) cx.tensorGrad(lm.bias, g.op('ReduceSum', [g.mul(dLogits, rowWeight), g.constInt64([0])], { keepdims: 0 }));
  return g;
}
