/**
 * A training step run layer by layer on ONNX Runtime (llm.c's layout): three sessions (layer
 * forward, layer backward, head; src/train/graphs) serve every layer, fed the layer's weights from
 * host buffers (host-weights.ts). The forward of layer l returns its saved activations, which the
 * step holds until the backward of layer l has used them; so peak memory is the base weights
 * (once) + the saved activations of all layers + one layer's ORT working set.
 *
 * The embedding lookup, the additive attention mask and the RoPE rows are built on the host. A
 * 4-bit base's group weights are dequantized on the host into one layer's scratch buffers before
 * each layer run, forward and backward (graphs/layer-inputs.ts says why).
 */
import { performance } from 'node:perf_hooks';
import { decoderArchitecture } from '../../model/architectures/index.js';
import { ropeTables } from '../../model/blocks/rope.js';
import { loadOrt, sessionOptions, type InferenceSession, type OrtModule, type OrtTensor } from '../../model/onnx/session.js';
import { dequantize4BitInto } from '../../model/quantize/nbits.js';
import { buildHead } from '../graphs/head.js';
import { buildLayerBackward } from '../graphs/layer-backward.js';
import { buildLayerForward } from '../graphs/layer-forward.js';
import { auxStatistics, linearGroups, savedTensors, savesAttentionProbs, type LinearGroup, type TrainingGraphSpec } from '../graphs/spec.js';
import { FullTraining } from './full-training.js';
import { hostWeights, type HostWeights } from './host-weights.js';
import { LoraTraining } from './lora-training.js';
import type { RunOptions, StepResult, TokenBatch, TrainedTensor, TrainingStep, TrainingStepOptions } from './step.js';
import type { TensorOf, TrainedPart } from './trained-part.js';
import { InternalError } from '../../core/errors.js';

const MASKED = -1e9;

/** Tokens per head run by default (see run). */
export const HEAD_ROWS = 256;

interface Sessions {
  /** One session for every layer. */
  forward: InferenceSession;
  backward: InferenceSession;
  head: InferenceSession;
}

/** What a step holds from create() on. */
interface StepParts {
  ort: OrtModule;
  spec: TrainingGraphSpec;
  groups: LinearGroup[];
  sessions: Sessions;
  weights: HostWeights;
  /** LoRA branches or every weight. */
  trained: TrainedPart;
  /** RoPE rows [maxPositions, R]. */
  rope: { cos: Float32Array; sin: Float32Array };
  /** Backward input name of a saved activation → the forward's output name. */
  savedNames: Record<string, string>;
  /** Dequantization targets per group (4-bit base), reused by every layer run. */
  scratch: Map<string, Float32Array> | undefined;
  headRows: number;
  profiling: boolean;
}

export class LayerwiseStep implements TrainingStep {
  private readonly buffers = new Map<string, Float32Array>();
  private readonly inputNames = new Map<InferenceSession, ReadonlySet<string>>();
  /** Per group, the layer whose 4-bit weight its scratch buffer holds (the last forward's is the first backward's). */
  private readonly scratchLayer = new Map<string, number>();

  private constructor(private readonly parts: StepParts) {
    const { sessions } = parts;
    for (const s of [sessions.forward, sessions.backward, sessions.head]) this.inputNames.set(s, new Set(s.inputNames));
  }

  static async create(options: TrainingStepOptions): Promise<LayerwiseStep> {
    const { ort, spec, groups, weights, trained: part, rope, opts } = await stepSetup(options);
    const { cos, sin } = rope;
    const created: InferenceSession[] = [];
    const session = async (graph: { toBytes(): Uint8Array }): Promise<InferenceSession> => {
      const x = await ort.InferenceSession.create(graph.toBytes(), opts);
      created.push(x);
      return x;
    };
    const quantized = weights.layers.some((layer) => layer.quantized);
    const built = buildLayerForward(spec);
    let sessions: Sessions;
    try {
      sessions = { forward: await session(built.graph), backward: await session(buildLayerBackward(spec)), head: await session(buildHead(spec)) };
    } catch (err) {
      for (const x of created) await x.release(); // a failed start leaves no native session behind
      throw err;
    }
    const scratch = quantized ? new Map(groups.map((group) => [group.name, new Float32Array(group.rows * group.inDim)])) : undefined;
    return new LayerwiseStep({
      ort, spec, groups, sessions, weights, trained: part, savedNames: built.saved, scratch,
      rope: { cos, sin },
      headRows: Math.max(1, Math.floor(options.headRows ?? HEAD_ROWS)),
      profiling: options.profilePrefix !== undefined,
    });
  }

  parameters(): TrainedTensor[] {
    return this.parts.trained.parameters();
  }

  async run(batch: TokenBatch, masks?: Uint8Array[], options: RunOptions = {}): Promise<StepResult> {
    const { ort, spec, weights, trained, groups, sessions, savedNames, scratch, headRows } = this.parts;
    const cfg = spec.config;
    const C = cfg.hiddenSize, R = spec.arch.rotaryDim(cfg), N = batch.B * batch.T, L = cfg.numHiddenLayers;
    const tensor: TensorOf = (type, data, dims) => new ort.Tensor(type as 'float32', data as Float32Array, dims);
    trained.begin(N, masks);
    const shared: Record<string, OrtTensor> = {
      mask_bias: tensor('float32', attentionBias(batch), [batch.B, 1, 1, batch.T, batch.T]),
      cos: tensor('float32', this.parts.rope.cos.subarray(0, batch.T * R), [batch.T, R]),
      sin: tensor('float32', this.parts.rope.sin.subarray(0, batch.T * R), [batch.T, R]),
    };
    const stats = auxStatistics(spec);
    if (stats.length > 0) shared.token_mask = tensor('float32', Float32Array.from(batch.attentionMask, (m) => (m !== 0n ? 1 : 0)), [N, 1]);
    // A layer run's feeds: exactly the session's inputs (a graph declares what its layer code uses).
    const layerFeeds = (l: number, session: InferenceSession): Record<string, OrtTensor> => {
      const wants = this.inputNames.get(session)!;
      const feeds: Record<string, OrtTensor> = {};
      for (const [name, t] of Object.entries(shared)) if (wants.has(name)) feeds[name] = t;
      const w = weights.layers[l]!;
      for (const [name, data] of w.tensors) if (wants.has(name)) feeds[name] = tensor('float32', data, [data.length]);
      for (const group of groups) {
        const bias = w.biases.get(group.name);
        if (bias && wants.has(`b.${group.name}`)) feeds[`b.${group.name}`] = tensor('float32', bias, [bias.length]);
        if (!wants.has(`w.${group.name}`)) continue;
        const q = w.quantized?.get(group.name);
        const data = q ? scratch!.get(group.name)! : w.float!.get(group.name)!;
        if (q && this.scratchLayer.get(group.name) !== l) {
          this.scratchLayer.delete(group.name); // not valid while being overwritten
          dequantize4BitInto(q, data);
          this.scratchLayer.set(group.name, l);
        }
        feeds[`w.${group.name}`] = tensor('float32', data, [group.rows, group.inDim]);
      }
      trained.feedLayer(l, feeds, wants, tensor);
      return feeds;
    };

    const seconds = { forward: 0, head: 0, backward: 0, host: 0 };
    let mark = performance.now();
    const lap = (phase: keyof typeof seconds): void => {
      const now = performance.now();
      seconds[phase] += (now - mark) / 1000;
      mark = now;
    };
    let h = tensor('float32', embedRows(weights.embed, cfg.vocabSize, batch.inputIds, C), [N, C]);
    // The saved activations go to buffers the step keeps from run to run (preallocated outputs):
    // a step allocates no activation memory, and none waits for the garbage collector.
    const saved: Array<Record<string, OrtTensor> | undefined> = [];
    const layerStats: Array<Record<string, Float32Array>> = [];
    const dims = (d: Array<number | string>): number[] => d.map((x) => (x === 'tokens' ? N : x === 'batch' ? batch.B : x === 'seq' ? batch.T : (x as number)));
    for (let l = 0; l < L; l++) {
      const session = sessions.forward;
      const fetches: Record<string, OrtTensor> = {};
      const mine: Record<string, OrtTensor> = {};
      for (const s of savedTensors(spec)) {
        const shape = dims(s.dims);
        const t = tensor('float32', this.buffer(`${l}:${s.name}`, shape.reduce((a, b) => a * b, 1)), shape);
        fetches[savedNames[`saved.${s.name}`]!] = t;
        mine[`saved.${s.name}`] = t;
      }
      fetches.h_out = tensor('float32', this.buffer(`h:${l % 2}`, N * C), [N, C]);
      for (const s of stats) fetches[`aux.${s.name}`] = tensor('float32', new Float32Array(s.size), [s.size]);
      const feeds = { ...layerFeeds(l, session), h };
      lap('host');
      await session.run(feeds, fetches);
      lap('forward');
      saved[l] = mine;
      if (stats.length > 0) layerStats.push(Object.fromEntries(stats.map((s) => [s.name, fetches[`aux.${s.name}`]!.data as Float32Array])));
      h = fetches.h_out;
    }
    // The head runs headRows tokens at a time: its [rows, V] logits, log-probabilities and
    // softmax are its whole working set (0.5 GB at 1,024 × 32,000 in one run).
    const hData = h.data as Float32Array;
    const dhHead = this.buffer('dh:head', N * C);
    const headWants = this.inputNames.get(sessions.head)!;
    let lossSum = 0;
    for (let r0 = 0; r0 < N; r0 += headRows) {
      const rows = Math.min(headRows, N - r0);
      const feeds: Record<string, OrtTensor> = {
        h: tensor('float32', hData.subarray(r0 * C, (r0 + rows) * C), [rows, C]),
        labels: new ort.Tensor('int64', batch.labels.subarray(r0, r0 + rows), [rows]),
      };
      for (const [name, data] of weights.head) if (headWants.has(name)) feeds[name] = tensor('float32', data, name === spec.arch.lmHead(cfg).weight ? [cfg.vocabSize, C] : [data.length]);
      const fetches: Record<string, OrtTensor | null> = { loss_sum: null, dh: tensor('float32', dhHead.subarray(r0 * C, (r0 + rows) * C), [rows, C]) };
      trained.fetchHead(fetches, tensor);
      const out = await sessions.head.run(feeds, fetches);
      lossSum += (out.loss_sum!.data as Float32Array)[0]!;
      trained.takeHead();
    }
    lap('head');
    // The auxiliary loss over every layer's statistics; its gradient, scaled, seeds each layer's backward.
    const aux = stats.length > 0 ? spec.arch.auxLoss!.combine(cfg, layerStats, batch.attentionMask.reduce((n, m) => n + (m !== 0n ? 1 : 0), 0)) : undefined;
    const auxScale = options.auxLossScale ?? 0;
    let dh = tensor('float32', dhHead, [N, C]);
    for (let l = L - 1; l >= 0; l--) {
      const feeds: Record<string, OrtTensor> = { ...layerFeeds(l, sessions.backward), ...saved[l]!, dh };
      for (const [name, grad] of Object.entries(aux?.grads[l] ?? {})) feeds[`aux_grad.${name}`] = tensor('float32', grad.map((v) => v * auxScale), [grad.length]);
      lap('host');
      const dhIn = tensor('float32', this.buffer(`dh:${l % 2}`, N * C), [N, C]);
      const fetches: Record<string, OrtTensor | null> = { dh_in: dhIn };
      trained.fetchLayer(l, fetches, tensor);
      const out = await sessions.backward.run(feeds, fetches);
      lap('backward');
      saved[l] = undefined; // this layer's activations are no longer needed
      dh = dhIn;
      trained.takeLayer(l, out);
    }
    const grads = trained.finish(dh.data as Float32Array, batch);
    lap('host');
    return { lossSum, grads, seconds, ...(aux ? { auxLoss: aux.loss } : {}) };
  }

  /** A reusable float buffer of at least `size` values (grown when a longer batch comes), viewed at `size`. */
  private buffer(key: string, size: number): Float32Array {
    let b = this.buffers.get(key);
    if (!b || b.length < size) this.buffers.set(key, (b = new Float32Array(size)));
    return b.subarray(0, size);
  }

  async release(): Promise<void> {
    const { sessions, profiling } = this.parts;
    const all = [sessions.forward, sessions.backward, sessions.head];
    if (profiling) for (const x of all) x.endProfiling();
    for (const x of all) await x.release();
  }
}

/**
 * Additive mask [B, 1, 1, T, T]: 0 where query i may attend key j (j ≤ i, key not padding), −1e9
 * elsewhere. Built a row at a time from each sequence's key row (0 or −1e9 by its padding): the
 * per-element BigInt test took ~2 ms a step at batch 4 × 256, a tenth of the tiny model's step.
 */
export function attentionBias(batch: Pick<TokenBatch, 'B' | 'T' | 'attentionMask'>): Float32Array {
  const { B, T } = batch;
  const bias = new Float32Array(B * T * T);
  const keys = new Float32Array(T);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < T; j++) keys[j] = batch.attentionMask[b * T + j] !== 0n ? 0 : MASKED;
    for (let i = 0; i < T; i++) {
      const row = (b * T + i) * T;
      bias.set(keys.subarray(0, i + 1), row);
      bias.fill(MASKED, row + i + 1, row + T);
    }
  }
  return bias;
}

/** Rows of the embedding [V, C] for the batch's ids: [N, C]. */
export function embedRows(embed: Float32Array, V: number, ids: BigInt64Array, C: number): Float32Array {
  const h = new Float32Array(ids.length * C);
  for (let n = 0; n < ids.length; n++) {
    const id = Number(ids[n]);
    if (!(id >= 0 && id < V)) throw new InternalError(`training step: token id ${id} outside the vocabulary (size ${V})`);
    h.set(embed.subarray(id * C, (id + 1) * C), n * C);
  }
  return h;
}

/** What every step engine builds first: the graphs' spec, the host weights, the trained part, RoPE rows, session options. */
export interface StepSetup {
  ort: OrtModule;
  spec: TrainingGraphSpec;
  groups: LinearGroup[];
  weights: HostWeights;
  trained: TrainedPart;
  rope: { cos: Float32Array; sin: Float32Array };
  opts: ReturnType<typeof sessionOptions>;
}

export async function stepSetup(options: TrainingStepOptions): Promise<StepSetup> {
  const { base, trainable } = options;
  const cfg = base.config;
  const arch = decoderArchitecture(cfg);
  const full = trainable.kind === 'full';
  if (full && base.quantized && base.quantized.size > 0) throw new InternalError('training step: full fine-tuning needs a float base (4-bit weights cannot be trained)');
  const lora = trainable.kind === 'lora' ? trainable.lora : undefined;
  const spec: TrainingGraphSpec = {
    config: cfg, arch, fullGrads: full,
    adapted: trainable.kind === 'lora' ? [...new Set(trainable.sites.map((s) => s.module))] : [],
    r: lora?.r ?? 1,
    dropout: (lora?.lora_dropout ?? 0) > 0,
    scale: lora ? lora.lora_alpha / lora.r / (1 - lora.lora_dropout) : 1,
    auxLoss: (options.auxLoss ?? false) && arch.auxLoss !== undefined,
    saveProbs: options.saveAttentionProbs ?? savesAttentionProbs(cfg, options.maxPositions),
  };
  const groups = linearGroups(cfg, arch);
  const loraPart = trainable.kind === 'lora' ? new LoraTraining(arch, cfg, trainable.sites, trainable.params, trainable.lora.r, spec.dropout) : undefined;
  const weights = hostWeights(base, arch, groups, options.consumeBase ?? false);
  const trained: TrainedPart = loraPart ?? new FullTraining(cfg, arch, groups, weights);
  const { cos, sin } = ropeTables(options.maxPositions, arch.rotaryDim(cfg), cfg.ropeTheta);
  const ort = await loadOrt();
  // The sessions' intra-op workers do not spin: every session has its own pool, and the pool of
  // the session that just ran kept spinning while the next one ran, taking a core from it (tiny
  // shape, 2 cores, full fine-tuning: 198 → 73 ms a step, the same results bit for bit).
  // The CPU arena is on: one session serves every layer and each run allocates the same sizes, so
  // blocks are reused instead of being returned to the OS and page-faulted in again.
  const opts = {
    ...sessionOptions({ threads: options.threads, spinning: false }),
    enableCpuMemArena: true,
    ...(options.profilePrefix ? { enableProfiling: true, profileFilePrefix: options.profilePrefix } : {}),
  };
  return { ort, spec, groups, weights, trained, rope: { cos: cos.data as Float32Array, sin: sin.data as Float32Array }, opts };
}
