/**
 * Runs an exported decoder graph step by step with its KV cache (onnxruntime-node, loaded
 * lazily). Feeds are named as transformers.js names them (see graph.ts).
 */
import type { LlamaConfig } from '../config.js';
import { createSession, i64Tensor, loadOrt, type InferenceSession, type OrtModule, type OrtTensor } from '../onnx/session.js';
import { InternalError } from '../../core/errors.js';

export interface StepInput {
  /** [B][T] token ids of this step. */
  inputIds: number[][];
  /** [B][past + T] 1 for real tokens, 0 for padding. */
  attentionMask: number[][];
  /** [B][T] positions. */
  positionIds: number[][];
}

export interface StepOutput {
  /** [B, T, V] float32, row-major. */
  logits: Float32Array;
  dims: [number, number, number];
}

export class DecoderRunner {
  private past: OrtTensor[] | undefined;
  private constructor(private readonly ort: OrtModule, readonly session: InferenceSession, readonly cfg: LlamaConfig) {}

  static async create(cfg: LlamaConfig, model: Uint8Array | string | InferenceSession, threads: number): Promise<DecoderRunner> {
    const ort = await loadOrt();
    const session = typeof model === 'string' || model instanceof Uint8Array ? await createSession(model, { threads }) : model;
    return new DecoderRunner(ort, session, cfg);
  }

  /** Forget the cache (start a new batch). */
  reset(): void {
    this.past = undefined;
  }

  /** Past length currently cached. */
  get pastLength(): number {
    return this.past ? this.past[0]!.dims[2]! : 0;
  }

  /** Runs one step, appending its keys/values to the cache. */
  async step(input: StepInput): Promise<StepOutput> {
    const B = input.inputIds.length, T = input.inputIds[0]!.length;
    const { numHiddenLayers: L, numKeyValueHeads: KVH, headDim: D } = this.cfg;
    const S = input.attentionMask[0]!.length;
    if (S !== this.pastLength + T) throw new InternalError(`attention_mask length ${S} ≠ past ${this.pastLength} + new ${T}`);
    const feeds: Record<string, OrtTensor> = {
      input_ids: i64Tensor(this.ort, input.inputIds.flat(), [B, T]),
      attention_mask: i64Tensor(this.ort, input.attentionMask.flat(), [B, S]),
      position_ids: i64Tensor(this.ort, input.positionIds.flat(), [B, T]),
    };
    const empty = new Float32Array(0);
    for (let l = 0; l < L; l++) {
      feeds[`past_key_values.${l}.key`] = this.past?.[2 * l] ?? new this.ort.Tensor('float32', empty, [B, KVH, 0, D]);
      feeds[`past_key_values.${l}.value`] = this.past?.[2 * l + 1] ?? new this.ort.Tensor('float32', empty, [B, KVH, 0, D]);
    }
    const out = await this.session.run(feeds);
    const next: OrtTensor[] = [];
    for (let l = 0; l < L; l++) next.push(out[`present.${l}.key`]!, out[`present.${l}.value`]!);
    this.past?.forEach((t) => t.dispose?.());
    this.past = next;
    const logits = out.logits!;
    return { logits: logits.data as Float32Array, dims: logits.dims as [number, number, number] };
  }

  async release(): Promise<void> {
    this.past = undefined;
    await this.session.release();
  }
}
