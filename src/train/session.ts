/**
 * Runs the training graph: one ONNX Runtime session per training run; each step feeds a batch,
 * the current LoRA tensors (and dropout keep-masks), and reads back loss_sum and the gradients.
 */
import { loadOrt, sessionOptions, type InferenceSession, type OrtModule, type OrtTensor } from '../model/onnx/session.js';
import type { TrainingGraph } from './graph.js';
import type { LoraSite, LoraTensors } from './lora.js';

export interface TokenBatch {
  B: number;
  T: number;
  inputIds: BigInt64Array; // [B·T]
  attentionMask: BigInt64Array; // [B·T]
  labels: BigInt64Array; // [B·T], shifted targets, −100 = no loss
  /** Labelled tokens in the batch. */
  tokens: number;
}

export interface StepResult {
  lossSum: number;
  /** d loss_sum / d A, B per site. */
  grads: LoraTensors[];
}

export interface TrainingSessionOptions {
  /** ONNX Runtime's CPU memory arena (default off for training). */
  memoryArena?: boolean;
  /** ORT's memory pattern (one planned block per input shape). Default on. */
  memoryPattern?: boolean;
}

export class TrainingSession {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: InferenceSession,
    private readonly graph: Pick<TrainingGraph, 'loraInputs' | 'gradOutputs'>,
    private readonly sites: LoraSite[],
    private readonly r: number,
  ) {}

  /** `model`: serialized bytes, or the path of a saved model (needed beyond 2 GB of weights). */
  static async create(model: Uint8Array | string, graph: Pick<TrainingGraph, 'loraInputs' | 'gradOutputs'>, sites: LoraSite[], r: number, threads: number, options: TrainingSessionOptions = {}): Promise<TrainingSession> {
    const ort = await loadOrt();
    // The CPU arena keeps freed blocks for reuse; with a training graph's many large, differently
    // sized activations it fragments and holds far more than the live set (docs/training.md).
    const opts = { ...sessionOptions({ threads }), enableCpuMemArena: options.memoryArena ?? false, enableMemPattern: options.memoryPattern ?? true };
    const session = typeof model === 'string' ? await ort.InferenceSession.create(model, opts) : await ort.InferenceSession.create(model, opts);
    return new TrainingSession(ort, session, graph, sites, r);
  }

  /** One forward + backward. `masks` (uint8 [B·T, in] per site) when the graph has dropout. */
  async step(batch: TokenBatch, lora: LoraTensors[], masks?: Uint8Array[]): Promise<StepResult> {
    const { ort } = this;
    const dims = [batch.B, batch.T];
    const feeds: Record<string, OrtTensor> = {
      input_ids: new ort.Tensor('int64', batch.inputIds, dims),
      attention_mask: new ort.Tensor('int64', batch.attentionMask, dims),
      labels: new ort.Tensor('int64', batch.labels, dims),
    };
    this.sites.forEach((site, i) => {
      const names = this.graph.loraInputs[i]!;
      feeds[names.A] = new ort.Tensor('float32', lora[i]!.A, [this.r, site.inDim]);
      feeds[names.B] = new ort.Tensor('float32', lora[i]!.B, [site.outDim, this.r]);
      if (names.mask) {
        const m = masks?.[i];
        if (!m) throw new Error(`training step: graph expects a dropout mask for ${site.path}`);
        feeds[names.mask] = new ort.Tensor('uint8', m, [batch.B * batch.T, site.inDim]);
      }
    });
    const out = await this.session.run(feeds);
    const lossSum = (out.loss_sum!.data as Float32Array)[0]!;
    const grads = this.graph.gradOutputs.map((g) => ({ A: Float32Array.from(out[g.A]!.data as Float32Array), B: Float32Array.from(out[g.B]!.data as Float32Array) }));
    return { lossSum, grads };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
