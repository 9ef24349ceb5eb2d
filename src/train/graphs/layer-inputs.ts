/**
 * The inputs that a layer's forward and backward graphs share, declared when the layer code first
 * asks for them: the attention mask and RoPE rows, the layer's tensors, its group weights and its
 * LoRA tensors.
 *
 * Group weights are float inputs W [rows, in], read by Gemm(transB) forward and MatMul backward
 * (fed zero-copy; MLAS runs these as fast as on a prepacked initializer, measured in
 * docs/training.md). A 4-bit base is fed W dequantized on the host, forward and backward: at
 * training shapes (1,024 tokens) the GEMM is compute-bound, so 4-bit codes save no time in it,
 * and host dequantization + SGEMM was faster than MatMulNBits on prepacked codes (AMD EPYC,
 * TinyLlama-1.1B shapes: 25.5 vs 29.1 ms for q/o, 69.7 vs 72.1 ms for gate/up, dequantization
 * included), while the prepacked codes needed a session per layer (docs/training.md).
 */
import type { LinearWeight } from '../../model/blocks/linear.js';
import type { LoraValues } from '../../model/blocks/lora.js';
import type { GraphBuilder } from '../../model/onnx/index.js';
import type { LinearGroup, TrainingGraphSpec } from './spec.js';
import { auxStatistics, isRouted, linearGroups, maskInputName } from './spec.js';
import { InternalError } from '../../core/errors.js';

export class LayerInputs {
  readonly groups: LinearGroup[];
  readonly maskBias: string;
  readonly rope: { cos: string; sin: string };
  /** [B, T] int64, from the mask's shape: the reshapes to and from attention heads. */
  readonly bt: string;
  private readonly declared = new Map<string, string>();

  constructor(readonly g: GraphBuilder, readonly spec: TrainingGraphSpec) {
    const R = spec.arch.rotaryDim(spec.config);
    this.groups = linearGroups(spec.config, spec.arch);
    this.maskBias = g.input('mask_bias', 'float32', ['batch', 1, 1, 'seq', 'seq']);
    this.rope = { cos: g.input('cos', 'float32', ['seq', R]), sin: g.input('sin', 'float32', ['seq', R]) };
    this.bt = g.concat([g.shape(this.maskBias, 0, 1), g.shape(this.maskBias, 4, 5)], 0);
  }

  private once(name: string, declare: () => string): string {
    let v = this.declared.get(name);
    if (v === undefined) this.declared.set(name, (v = declare()));
    return v;
  }

  /** A layer tensor (`input_layernorm.weight`) as an input of its declared shape. */
  tensor(name: string): string {
    return this.once(name, () => {
      const spec = this.spec.arch.layerTensors(this.spec.config).find((t) => t.name === name);
      if (!spec) throw new InternalError(`training graphs: ${name} is not a layer tensor of ${this.spec.arch.modelType}`);
      return this.g.input(name, 'float32', spec.shape);
    });
  }

  /** A group's base weight (the float input) and bias. */
  weight(group: LinearGroup): LinearWeight {
    const { g } = this;
    const bias = group.bias ? this.once(`b.${group.name}`, () => g.input(`b.${group.name}`, 'float32', [group.rows])) : undefined;
    return { float: this.floatWeight(group), bias };
  }

  /** The float weight input W [rows, in] of a group. */
  floatWeight(group: LinearGroup): string {
    return this.once(`w.${group.name}`, () => this.g.input(`w.${group.name}`, 'float32', [group.rows, group.inDim]));
  }

  /**
   * A module's LoRA tensors (and dropout mask), when it is adapted. An MoE expert's linear gets
   * the rows `rows` of the mask its experts share (its routed pairs).
   */
  lora(module: string, rows?: string): LoraValues | undefined {
    const { g, spec } = this;
    if (!spec.adapted.includes(module)) return undefined;
    const [out, inDim] = spec.arch.linearShape(spec.config, module);
    const maskName = maskInputName(spec, module);
    const routed = isRouted(spec, module);
    if (routed && rows === undefined) throw new InternalError(`layer graph: ${module} is an expert's linear; it needs its routed rows`);
    const mask = spec.dropout ? this.once(maskName, () => g.input(maskName, 'uint8', [routed ? 'pairs' : 'tokens', inDim])) : undefined;
    return {
      A: this.once(`lora.${module}.A`, () => g.input(`lora.${module}.A`, 'float32', [spec.r, inDim])),
      B: this.once(`lora.${module}.B`, () => g.input(`lora.${module}.B`, 'float32', [out, spec.r])),
      scale: spec.scale,
      mask: mask && routed ? g.gather(mask, rows!) : mask,
    };
  }

  /** 1 per real token, 0 per padding token, [N, 1] (graphs built with an auxiliary loss). */
  get tokenMask(): string | undefined {
    if (auxStatistics(this.spec).length === 0) return undefined;
    return this.once('token_mask', () => this.g.input('token_mask', 'float32', ['tokens', 1]));
  }

  /** d loss / d statistic `name` [size] (the backward, with an auxiliary loss). */
  auxGrad(name: string): string | undefined {
    const stat = auxStatistics(this.spec).find((s) => s.name === name);
    if (!stat) return undefined;
    return this.once(`aux_grad.${name}`, () => this.g.input(`aux_grad.${name}`, 'float32', [stat.size]));
  }

  /** [N, heads·D] → [B, heads, T, D]. */
  toHeads(x: string, heads: number): string {
    const D = this.spec.config.headDim;
    return this.g.transpose(this.g.op('Reshape', [x, this.g.concat([this.bt, this.g.constInt64([heads, D])], 0)]), [0, 2, 1, 3]);
  }

  /** [B, heads, T, D] → [N, heads·D]. */
  fromHeads(x: string, heads: number): string {
    return this.g.reshape(this.g.transpose(x, [0, 2, 1, 3]), [-1, heads * this.spec.config.headDim]);
  }
}
