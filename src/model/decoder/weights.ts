/**
 * The inference decoder's weights: every tensor becomes an initializer under its HF name when a
 * layer first asks for it, and each linear module runs on its own (HF-layout Gemm, or MatMulNBits
 * on codes quantized here), with an adapter's LoRA branch where it has one.
 */
import type { LoraBranch } from '../blocks/lora.js';
import { loraForward } from '../blocks/lora.js';
import { linearForward, matMulNBits, nbitsInitializers } from '../blocks/linear.js';
import type { GraphBuilder } from '../onnx/builder.js';
import { quantizeNBits, type NBitsOptions } from '../quantize/nbits.js';
import { toFloat32, type HostTensor } from '../tensor.js';
import { InternalError } from '../../core/errors.js';

export type Weights = Map<string, HostTensor>;

export interface LinearOptions {
  /** Quantize every decoder linear (MatMulNBits). */
  quantization?: NBitsOptions & { accuracyLevel?: number };
  /** LoRA side branches by module path (`model.layers.0.self_attn.q_proj`). */
  lora?: Map<string, LoraBranch>;
}

/** A float32 view or copy (F16/BF16/F64 weights are widened; ONNX Gemm here runs in float32). */
export function asF32(t: HostTensor): HostTensor {
  return t.dtype === 'F32' ? t : { dtype: 'F32', shape: [...t.shape], data: toFloat32(t) };
}

export class InitializerWeights {
  constructor(private readonly g: GraphBuilder, private readonly weights: Weights) {}

  /** The host tensor `name`; a missing one is a clear error. */
  host(name: string): HostTensor {
    const t = this.weights.get(name);
    if (!t) throw new InternalError(`decoder graph: missing weight ${name}`);
    return t;
  }

  /** An initializer holding `name` (float32). */
  tensor(name: string): string {
    return this.g.initializer(name, asF32(this.host(name)));
  }

  /** y = x · Wᵀ (+ b) (+ s · x · Aᵀ · Bᵀ) for the module at `path`, x [N, in]. */
  linear(path: string, x: string, hasBias: boolean, options: LinearOptions): string {
    const { g } = this;
    const weight = this.host(`${path}.weight`);
    let y: string;
    if (options.quantization) {
      const [out, inDim] = weight.shape as [number, number];
      const q = quantizeNBits(toFloat32(weight), out, inDim, options.quantization);
      const names = { codes: `${path}.weight_q`, scales: `${path}.weight_scales`, zeroPoints: `${path}.weight_zp` };
      y = matMulNBits(g, x, nbitsInitializers(g, names, q), options.quantization.accuracyLevel ?? 0);
      if (hasBias) y = g.add(y, this.tensor(`${path}.bias`));
    } else {
      const float = this.tensor(`${path}.weight`);
      y = linearForward(g, x, { float, bias: hasBias ? this.tensor(`${path}.bias`) : undefined });
    }
    const branch = options.lora?.get(path);
    if (branch) {
      const A = g.initializer(`${path}.lora_A.weight`, asF32(branch.A));
      const B = g.initializer(`${path}.lora_B.weight`, asF32(branch.B));
      y = loraForward(g, x, y, { A, B, scale: branch.scaling }).y;
    }
    return y;
  }
}
