/**
 * What the layerwise step asks of the part that is trained (LoRA branches or every weight): which
 * inputs it adds to a layer's runs, which gradients it fetches, and the gradient list it returns.
 * The step itself is the same for both.
 */
import type { OrtTensor } from '../../model/onnx/session.js';
import type { TokenBatch, TrainedTensor } from './step.js';

/** Makes ORT tensors over host buffers (zero-copy). */
export type TensorOf = (type: 'float32' | 'uint8', data: Float32Array | Uint8Array, dims: number[]) => OrtTensor;

export interface TrainedPart {
  parameters(): TrainedTensor[];
  /** Start of a step over `tokens` rows (`masks`: LoRA dropout keep-masks per site). */
  begin(tokens: number, masks?: Uint8Array[]): void;
  /** Adds layer l's trained inputs to a forward or backward run (`wants`: the session's input names). */
  feedLayer(l: number, feeds: Record<string, OrtTensor>, wants: ReadonlySet<string>, tensor: TensorOf): void;
  /** Adds layer l's gradient outputs to its backward run (null: ORT allocates). */
  fetchLayer(l: number, fetches: Record<string, OrtTensor | null>, tensor: TensorOf): void;
  /** Reads layer l's gradients from its backward's outputs. */
  takeLayer(l: number, out: Record<string, OrtTensor>): void;
  /** Adds the head's gradient outputs to a head run (over some of the step's rows). */
  fetchHead(fetches: Record<string, OrtTensor | null>, tensor: TensorOf): void;
  /** After each head run. */
  takeHead(): void;
  /** After the backward: d loss / d h₀ [N, C] (the embedding's input gradient). Returns the gradients, parallel to parameters(). */
  finish(dh0: Float32Array, batch: TokenBatch): Float32Array[];
}
