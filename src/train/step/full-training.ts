/**
 * Full fine-tuning as the trained part of a step: every weight of a float base, as views of the
 * very buffers the step feeds (host-weights.ts), with gradient buffers of the same layout that
 * each layer's backward writes into (preallocated outputs). The head runs over row chunks, so its
 * gradients are summed from a scratch buffer; the embedding's gradient is a scatter-add on the
 * host (each token's row gets the gradient of its input vector).
 *
 * Order of parameters() (the optimizer's and the checkpoint's): the embedding; per layer its
 * tensors, then each group's modules (weight, then bias); the head's tensors; an untied LM head.
 */
import type { DecoderArchitecture } from '../../model/architectures/index.js';
import type { LlamaConfig } from '../../model/config.js';
import type { OrtTensor } from '../../model/onnx/session.js';
import type { LinearGroup } from '../graphs/spec.js';
import { addInto } from '../optimizer.js';
import type { HostWeights } from './host-weights.js';
import type { TokenBatch, TrainedTensor } from './step.js';
import type { TensorOf, TrainedPart } from './trained-part.js';
import { InternalError } from '../../core/errors.js';

interface LayerGrads {
  /** Output name (`grad.<input>`) → buffer and dims. */
  outputs: Map<string, { data: Float32Array; dims: number[] }>;
}

export class FullTraining implements TrainedPart {
  private readonly params: TrainedTensor[] = [];
  private readonly grads: Float32Array[] = [];
  private readonly layers: LayerGrads[] = [];
  /** Head outputs: one run's gradient (scratch) and where it is summed. */
  private readonly head: Array<{ name: string; scratch: Float32Array; dims: number[]; total: Float32Array }> = [];
  private readonly embedGrad: Float32Array;
  private readonly C: number;

  constructor(cfg: LlamaConfig, arch: DecoderArchitecture, groups: LinearGroup[], weights: HostWeights) {
    const C = (this.C = cfg.hiddenSize), V = cfg.vocabSize;
    const add = (name: string, shape: number[], data: Float32Array, grad: Float32Array, decay: boolean): void => {
      this.params.push({ name, shape, data, decay });
      this.grads.push(grad);
    };
    this.embedGrad = new Float32Array(weights.embed.length);
    add(arch.embedding, [V, C], weights.embed, this.embedGrad, true);
    weights.layers.forEach((layer, l) => {
      if (!layer.float || layer.quantized) throw new InternalError('training step: full fine-tuning needs a float base (4-bit weights cannot be trained)');
      const outputs = new Map<string, { data: Float32Array; dims: number[] }>();
      for (const t of arch.layerTensors(cfg)) {
        const grad = new Float32Array(layer.tensors.get(t.name)!.length);
        outputs.set(`grad.${t.name}`, { data: grad, dims: t.shape });
        add(`model.layers.${l}.${t.name}`, t.shape, layer.tensors.get(t.name)!, grad, false);
      }
      for (const group of groups) {
        const w = layer.float.get(group.name)!, b = layer.biases.get(group.name);
        const gw = new Float32Array(w.length), gb = b ? new Float32Array(b.length) : undefined;
        outputs.set(`grad.w.${group.name}`, { data: gw, dims: [group.rows, group.inDim] });
        if (gb) outputs.set(`grad.b.${group.name}`, { data: gb, dims: [group.rows] });
        let row = 0;
        group.modules.forEach((m, i) => {
          const out = group.widths[i]!, path = arch.linearPath(l, m);
          add(`${path}.weight`, [out, group.inDim], w.subarray(row * group.inDim, (row + out) * group.inDim), gw.subarray(row * group.inDim, (row + out) * group.inDim), true);
          if (b) add(`${path}.bias`, [out], b.subarray(row, row + out), gb!.subarray(row, row + out), false);
          row += out;
        });
      }
      this.layers.push({ outputs });
    });
    for (const t of arch.headTensors(cfg)) {
      const total = new Float32Array(weights.head.get(t.name)!.length);
      add(t.name, t.shape, weights.head.get(t.name)!, total, false);
      this.head.push({ name: `grad.${t.name}`, scratch: new Float32Array(total.length), dims: t.shape, total });
    }
    const lmHead = arch.lmHead(cfg).weight;
    let lmTotal = this.embedGrad; // tied: the LM head's gradient is the embedding's
    if (lmHead !== arch.embedding) {
      lmTotal = new Float32Array(V * C);
      add(lmHead, [V, C], weights.head.get(lmHead)!, lmTotal, true);
    }
    this.head.unshift({ name: `grad.${lmHead}`, scratch: new Float32Array(V * C), dims: [V, C], total: lmTotal });
  }

  parameters(): TrainedTensor[] {
    return this.params;
  }

  begin(): void {
    for (const g of this.grads) g.fill(0); // the head and the embedding accumulate
  }

  feedLayer(): void {}

  fetchLayer(l: number, fetches: Record<string, OrtTensor | null>, tensor: TensorOf): void {
    for (const [name, { data, dims }] of this.layers[l]!.outputs) fetches[name] = tensor('float32', data, dims);
  }

  takeLayer(): void {}

  fetchHead(fetches: Record<string, OrtTensor | null>, tensor: TensorOf): void {
    for (const h of this.head) fetches[h.name] = tensor('float32', h.scratch, h.dims);
  }

  takeHead(): void {
    for (const h of this.head) addInto(h.total, h.scratch);
  }

  finish(dh0: Float32Array, batch: TokenBatch): Float32Array[] {
    const C = this.C;
    for (let n = 0; n < batch.B * batch.T; n++) {
      const row = Number(batch.inputIds[n]) * C;
      for (let c = 0; c < C; c++) this.embedGrad[row + c]! += dh0[n * C + c]!;
    }
    return this.grads;
  }
}
