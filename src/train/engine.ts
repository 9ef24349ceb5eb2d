/**
 * Runs one training step (forward, loss, backward) layer by layer on ONNX Runtime: three
 * sessions (layer forward, layer backward, head; layer-graph.ts) serve every layer, with the
 * layer's weights fed from host buffers. The forward of layer l returns its saved activations,
 * which the engine holds until the backward of layer l has used them; so peak memory is the base
 * weights (once) + the saved activations of all layers + one layer's ORT working set.
 *
 * The embedding lookup, the additive attention mask and the RoPE rows are built on the host.
 */
import { performance } from 'node:perf_hooks';
import { linearPath, linearShape, type LinearModule, type LlamaConfig } from '../model/config.js';
import { ropeTables } from '../model/llama/graph.js';
import { loadOrt, sessionOptions, type InferenceSession, type OrtModule, type OrtTensor } from '../model/onnx/session.js';
import { dequantize4BitInto, type NBitsWeight } from '../model/quantize/nbits.js';
import { toFloat32, type HostTensor } from '../model/tensor.js';
import { buildHead, buildLayerBackward, buildLayerForward, GROUP_NAMES, GROUPS, savedTensors, type GroupName, type GroupQuantized, type LayerGraphSpec } from './layer-graph.js';
import type { LoraConfig, LoraSite, LoraTensors } from './lora.js';
import { addInto } from './optimizer.js';

/** The frozen base: float tensors by HF name; decoder linears may instead be int4 (MatMulNBits layout). */
export interface BaseModel {
  config: LlamaConfig;
  /** Embedding, norms, lm_head, biases, and the float decoder linears. */
  weights: Map<string, HostTensor>;
  /** Quantized decoder linears by module path (`model.layers.0.self_attn.q_proj`). */
  quantized?: Map<string, NBitsWeight>;
}

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
  /**
   * Full fine-tuning: d loss_sum / d parameter, parallel to parameters(). Views of buffers the
   * engine reuses: the next step overwrites them.
   */
  weightGrads?: Float32Array[];
  /** Wall-clock seconds per phase (for provenance and benchmarks; never part of an artifact). */
  seconds: { forward: number; head: number; backward: number; host: number };
}

export interface EngineOptions {
  lora: LoraConfig;
  sites: LoraSite[];
  /** RoPE table rows (the longest sequence + 1). */
  maxPositions: number;
  threads: number;
  /**
   * Take the decoder linears out of `base.weights` / `base.quantized` once they are fused into the
   * engine's per-layer buffers, so a large base is not held twice. Default false.
   */
  consumeBase?: boolean;
  /**
   * `full`: train every base weight instead of LoRA branches (float bases only; `sites` must be
   * empty); the weights are the engine's own buffers, listed by parameters(). Default `lora`.
   */
  trainable?: 'lora' | 'full';
  /** Tokens per run of the head session (default 256): bounds its [rows, vocab] working set. */
  headRows?: number;
  /** Write ONNX Runtime profiles (JSON, one per session) with this path prefix. */
  profilePrefix?: string;
}

const MASKED = -1e9;
/** Tokens per head run by default (see step). */
const HEAD_ROWS = 256;

/** One layer's frozen weights on the host. */
interface LayerWeights {
  ln1: Float32Array; // [C]
  ln2: Float32Array; // [C]
  /** Fused float weights [rows, in] (float base). */
  float?: Record<GroupName, Float32Array>;
  /** Fused 4-bit weights (4-bit base): the backward dequantizes them into scratch buffers. */
  quantized?: Record<GroupName, GroupQuantized>;
  /** q/k/v biases (qwen2) [rows]. */
  qkvBias?: Float32Array;
}

export class TrainingEngine {
  private constructor(
    private readonly ort: OrtModule,
    private readonly spec: LayerGraphSpec,
    /** forward: one session for every layer (float base) or one per layer (4-bit base). */
    private readonly sessions: { forward: InferenceSession[]; backward: InferenceSession; head: InferenceSession },
    private readonly layers: LayerWeights[],
    private readonly embed: Float32Array,
    private readonly head: { norm: Float32Array; weight: Float32Array },
    private readonly rope: { cos: Float32Array; sin: Float32Array },
    /** Site index of (layer, module), or undefined when the module is not adapted. */
    private readonly siteOf: (layer: number, module: LinearModule) => number | undefined,
    /** Backward input name of a saved activation → the forward's output name. */
    private readonly savedNames: Record<string, string>,
    /** Dequantization targets per group (4-bit base), reused by every layer's backward. */
    private readonly scratch: Record<GroupName, Float32Array> | undefined,
    private readonly profiling: boolean,
    private readonly headRows: number,
    /** Full fine-tuning: the trainable weights (views of the engine's buffers) and their gradient buffers. */
    private readonly full?: FullTraining,
  ) {}

  /** Full fine-tuning: every trainable weight by HF name, as views of the buffers the engine feeds (update them in place). */
  parameters(): TrainableWeight[] {
    if (!this.full) throw new Error('training engine: parameters() is for full fine-tuning (trainable: full)');
    return this.full.params;
  }

  static async create(base: BaseModel, options: EngineOptions): Promise<TrainingEngine> {
    const cfg = base.config;
    const adapted = [...new Set(options.sites.map((s) => s.module))];
    for (let l = 0; l < cfg.numHiddenLayers; l++) {
      const here = options.sites.filter((s) => s.layer === l).map((s) => s.module);
      if (here.length !== adapted.length) throw new Error(`training engine: every layer must adapt the same modules (layer ${l}: ${here.join(', ')})`);
    }
    checkQuantized(base);
    const full = options.trainable === 'full';
    if (full && base.quantized && base.quantized.size > 0) throw new Error('training engine: full fine-tuning needs a float base (4-bit weights cannot be trained)');
    if (full && options.sites.length > 0) throw new Error('training engine: full fine-tuning trains the base weights; it takes no LoRA sites');
    const spec: LayerGraphSpec = {
      config: cfg, adapted, r: options.lora.r, dropout: !full && options.lora.loraDropout > 0, fullGrads: full,
      scale: options.lora.loraAlpha / options.lora.r / (1 - options.lora.loraDropout),
    };
    const layers: LayerWeights[] = [];
    for (let l = 0; l < cfg.numHiddenLayers; l++) layers.push(layerWeights(base, l, options.consumeBase ?? false));
    const weight = (name: string): Float32Array => {
      const t = base.weights.get(name);
      if (!t) throw new Error(`training engine: missing base weight ${name}`);
      return t.dtype === 'F32' ? (t.data as Float32Array) : toFloat32(t);
    };
    const embed = weight('model.embed_tokens.weight');
    const head = { norm: weight('model.norm.weight'), weight: cfg.tieWordEmbeddings ? embed : weight('lm_head.weight') };
    const { cos, sin } = ropeTables(options.maxPositions, cfg.headDim, cfg.ropeTheta);
    const ort = await loadOrt();
    // The CPU arena is on where one session serves every layer: each run allocates the same sizes,
    // so blocks are reused instead of being returned to the OS and page-faulted in again. The
    // per-layer forward sessions of a 4-bit base run without it: 22 arenas each holding a layer's
    // working set peaked at 15.2 GB against 5.7 GB without (TinyLlama-1.1B shape, batch 4 × 256).
    const opts = {
      ...sessionOptions({ threads: options.threads }),
      enableCpuMemArena: true,
      ...(options.profilePrefix ? { enableProfiling: true, profileFilePrefix: options.profilePrefix } : {}),
    };
    const perLayerOpts = { ...opts, enableCpuMemArena: false };
    const created: InferenceSession[] = [];
    const session = async (graph: { toBytes(): Uint8Array }, o: typeof opts): Promise<InferenceSession> => {
      const x = await ort.InferenceSession.create(graph.toBytes(), o);
      created.push(x);
      return x;
    };
    let sessions: { forward: InferenceSession[]; backward: InferenceSession; head: InferenceSession };
    let savedNames: Record<string, string> = {};
    try {
      const forward: InferenceSession[] = [];
      for (const layer of layers[0]?.quantized ? layers : layers.slice(0, 1)) {
        const built = buildLayerForward(spec, layer.quantized);
        savedNames = built.saved; // the same value names in every layer's graph
        forward.push(await session(built.graph, layer.quantized ? perLayerOpts : opts));
      }
      sessions = { forward, backward: await session(buildLayerBackward(spec), opts), head: await session(buildHead(cfg, full), opts) };
    } catch (err) {
      for (const x of created) await x.release(); // a failed start leaves no native session behind
      throw err;
    }
    const scratch = layers[0]?.quantized ? mapGroups((group) => new Float32Array(layers[0]!.quantized![group].N * layers[0]!.quantized![group].K)) : undefined;
    const index = new Map(options.sites.map((s, i) => [linearPath(s.layer, s.module), i]));
    return new TrainingEngine(ort, spec, sessions, layers, embed, head, { cos: cos.data as Float32Array, sin: sin.data as Float32Array }, (l, m) => index.get(linearPath(l, m)), savedNames, scratch, options.profilePrefix !== undefined, Math.max(1, Math.floor(options.headRows ?? HEAD_ROWS)), full ? fullTraining(cfg, layers, embed, head) : undefined);
  }

  /** One forward + backward over the batch. `masks`: uint8 [B·T, in] keep-masks per site when dropout is on. */
  async step(batch: TokenBatch, lora: LoraTensors[], masks?: Uint8Array[]): Promise<StepResult> {
    const { ort, spec } = this;
    const cfg = spec.config;
    const C = cfg.hiddenSize, D = cfg.headDim, N = batch.B * batch.T, L = cfg.numHiddenLayers;
    const tensor = (type: 'float32' | 'uint8', data: Float32Array | Uint8Array, dims: number[]): OrtTensor => new ort.Tensor(type as 'float32', data as Float32Array, dims);
    const shared: Record<string, OrtTensor> = {
      mask_bias: tensor('float32', attentionBias(batch), [batch.B, 1, 1, batch.T, batch.T]),
      cos: tensor('float32', this.rope.cos.subarray(0, batch.T * D), [batch.T, D]),
      sin: tensor('float32', this.rope.sin.subarray(0, batch.T * D), [batch.T, D]),
    };
    const layerFeeds = (l: number, pass: 'forward' | 'backward'): Record<string, OrtTensor> => {
      const feeds: Record<string, OrtTensor> = { ...shared };
      const w = this.layers[l]!;
      feeds['ln1.weight'] = tensor('float32', w.ln1, [C]);
      feeds['ln2.weight'] = tensor('float32', w.ln2, [C]);
      if (w.qkvBias) feeds['b.qkv'] = tensor('float32', w.qkvBias, [w.qkvBias.length]);
      for (const group of GROUP_NAMES) {
        // A 4-bit layer's forward session holds its codes; its backward gets them dequantized.
        if (w.quantized && pass === 'forward') continue;
        const data = w.float?.[group] ?? dequantize4BitInto(w.quantized![group], this.scratch![group]);
        const rows = rowsOf(cfg, group);
        feeds[`w.${group}`] = tensor('float32', data, [rows, data.length / rows]);
      }
      for (const m of spec.adapted) {
        const i = this.siteOf(l, m)!;
        const [r, inDim, outDim] = [spec.r, lora[i]!.A.length / spec.r, lora[i]!.B.length / spec.r];
        feeds[`lora.${m}.A`] = tensor('float32', lora[i]!.A, [r, inDim]);
        feeds[`lora.${m}.B`] = tensor('float32', lora[i]!.B, [outDim, r]);
        if (spec.dropout) {
          const mask = masks?.[i];
          if (!mask) throw new Error(`training step: a dropout mask is needed for ${linearPath(l, m)}`);
          feeds[`mask.${m}`] = tensor('uint8', mask, [N, inDim]);
        }
      }
      return feeds;
    };

    const seconds = { forward: 0, head: 0, backward: 0, host: 0 };
    let mark = performance.now();
    const lap = (phase: keyof typeof seconds): void => {
      const now = performance.now();
      seconds[phase] += (now - mark) / 1000;
      mark = now;
    };
    let h = tensor('float32', this.embedRows(batch.inputIds, C), [N, C]);
    // The saved activations go to buffers the engine keeps from step to step (preallocated
    // outputs): a step allocates no activation memory, and none waits for the garbage collector.
    const saved: Array<Record<string, OrtTensor> | undefined> = [];
    const dims = (d: Array<number | string>): number[] => d.map((x) => (x === 'tokens' ? N : x === 'batch' ? batch.B : x === 'seq' ? batch.T : (x as number)));
    for (let l = 0; l < L; l++) {
      const fetches: Record<string, OrtTensor> = {};
      const mine: Record<string, OrtTensor> = {};
      for (const s of savedTensors(spec)) {
        const shape = dims(s.dims);
        const t = tensor('float32', this.buffer(`${l}:${s.name}`, shape.reduce((a, b) => a * b, 1)), shape);
        fetches[this.savedNames[s.name]!] = t;
        mine[s.name] = t;
      }
      fetches.h_out = tensor('float32', this.buffer(`h:${l % 2}`, N * C), [N, C]);
      const feeds = { ...layerFeeds(l, 'forward'), h };
      lap('host');
      await (this.sessions.forward[l] ?? this.sessions.forward[0]!).run(feeds, fetches);
      lap('forward');
      saved[l] = mine;
      h = fetches.h_out;
    }
    // The head runs headRows tokens at a time: its [rows, V] logits, log-probabilities and
    // softmax are its whole working set (0.5 GB at 1,024 × 32,000 in one run).
    const hData = h.data as Float32Array;
    const dhHead = this.buffer('dh:head', N * C);
    const full = this.full;
    if (full) for (const g of full.grads) g.fill(0); // the head and the embedding accumulate
    let lossSum = 0;
    for (let r0 = 0; r0 < N; r0 += this.headRows) {
      const rows = Math.min(this.headRows, N - r0);
      const out = await this.sessions.head.run(
        {
          h: tensor('float32', hData.subarray(r0 * C, (r0 + rows) * C), [rows, C]),
          'norm.weight': tensor('float32', this.head.norm, [C]),
          'lm_head.weight': tensor('float32', this.head.weight, [cfg.vocabSize, C]),
          labels: new ort.Tensor('int64', batch.labels.subarray(r0, r0 + rows), [rows]),
        },
        {
          loss_sum: null,
          dh: tensor('float32', dhHead.subarray(r0 * C, (r0 + rows) * C), [rows, C]),
          ...(full ? { 'grad.lm_head': tensor('float32', full.headScratch, [cfg.vocabSize, C]), 'grad.norm': tensor('float32', full.normScratch, [C]) } : {}),
        },
      );
      lossSum += (out.loss_sum!.data as Float32Array)[0]!;
      if (full) {
        addInto(full.headGrad, full.headScratch);
        addInto(full.normGrad, full.normScratch);
      }
    }
    lap('head');
    let dh = tensor('float32', dhHead, [N, C]);
    const grads: LoraTensors[] = new Array(lora.length);
    for (let l = L - 1; l >= 0; l--) {
      const feeds = { ...layerFeeds(l, 'backward'), ...saved[l]!, dh };
      lap('host');
      const dhIn = tensor('float32', this.buffer(`dh:${l % 2}`, N * C), [N, C]);
      const fetches: Record<string, OrtTensor | null> = { dh_in: dhIn };
      for (const m of spec.adapted) fetches[`grad.${m}.A`] = fetches[`grad.${m}.B`] = null; // allocated by ORT: the trainer keeps them
      if (full) {
        const lg = full.layers[l]!;
        for (const group of GROUP_NAMES) {
          const rows = rowsOf(cfg, group);
          fetches[`grad.w.${group}`] = tensor('float32', lg.groups[group], [rows, lg.groups[group].length / rows]);
        }
        fetches['grad.ln1'] = tensor('float32', lg.ln1, [C]);
        fetches['grad.ln2'] = tensor('float32', lg.ln2, [C]);
        if (lg.qkvBias) fetches['grad.b.qkv'] = tensor('float32', lg.qkvBias, [lg.qkvBias.length]);
      }
      const out = await this.sessions.backward.run(feeds, fetches);
      lap('backward');
      saved[l] = undefined; // this layer's activations are no longer needed
      dh = dhIn;
      for (const m of spec.adapted) grads[this.siteOf(l, m)!] = { A: out[`grad.${m}.A`]!.data as Float32Array, B: out[`grad.${m}.B`]!.data as Float32Array };
    }
    if (full) {
      // The embedding's gradient: each token's row gets the gradient of its input vector.
      const g0 = dh.data as Float32Array;
      for (let n = 0; n < N; n++) {
        const row = Number(batch.inputIds[n]) * C;
        for (let c = 0; c < C; c++) full.embedGrad[row + c]! += g0[n * C + c]!;
      }
    }
    lap('host');
    return { lossSum, grads, seconds, ...(full ? { weightGrads: full.grads } : {}) };
  }

  private readonly buffers = new Map<string, Float32Array>();

  /** A reusable float buffer of at least `size` values (grown when a longer batch comes), viewed at `size`. */
  private buffer(key: string, size: number): Float32Array {
    let b = this.buffers.get(key);
    if (!b || b.length < size) this.buffers.set(key, (b = new Float32Array(size)));
    return b.subarray(0, size);
  }

  /** Rows of the embedding for the batch's ids: [N, C]. */
  private embedRows(ids: BigInt64Array, C: number): Float32Array {
    const V = this.spec.config.vocabSize;
    const h = new Float32Array(ids.length * C);
    for (let n = 0; n < ids.length; n++) {
      const id = Number(ids[n]);
      if (!(id >= 0 && id < V)) throw new RangeError(`training step: token id ${id} outside the vocabulary (size ${V})`);
      h.set(this.embed.subarray(id * C, (id + 1) * C), n * C);
    }
    return h;
  }

  async release(): Promise<void> {
    if (this.profiling) for (const x of [...this.sessions.forward, this.sessions.backward, this.sessions.head]) x.endProfiling();
    for (const f of this.sessions.forward) await f.release();
    await this.sessions.backward.release();
    await this.sessions.head.release();
  }
}

/** Additive mask [B, 1, 1, T, T]: 0 where query i may attend key j (j ≤ i, key not padding), −1e9 elsewhere. */
export function attentionBias(batch: Pick<TokenBatch, 'B' | 'T' | 'attentionMask'>): Float32Array {
  const { B, T } = batch;
  const bias = new Float32Array(B * T * T);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < T; i++) {
      const row = (b * T + i) * T;
      for (let j = 0; j < T; j++) bias[row + j] = j <= i && batch.attentionMask[b * T + j] !== 0n ? 0 : MASKED;
    }
  return bias;
}

/** A weight trained by full fine-tuning. */
export interface TrainableWeight {
  /** HF tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  shape: number[];
  /** The engine's buffer (a view into a fused group for decoder linears): update in place. */
  data: Float32Array;
  /** AdamW weight decay applies (as transformers' Trainer: not to biases and norm weights). */
  decay: boolean;
}

interface FullTraining {
  params: TrainableWeight[];
  /** Gradient buffers parallel to params (views into the per-layer fused buffers below). */
  grads: Float32Array[];
  layers: Array<{ groups: Record<GroupName, Float32Array>; ln1: Float32Array; ln2: Float32Array; qkvBias?: Float32Array }>;
  embedGrad: Float32Array;
  /** The LM head's gradient: the embedding's when tied. */
  headGrad: Float32Array;
  normGrad: Float32Array;
  /** One head run's gradients, summed into headGrad / normGrad. */
  headScratch: Float32Array;
  normScratch: Float32Array;
}

function fullTraining(cfg: LlamaConfig, layers: LayerWeights[], embed: Float32Array, head: { norm: Float32Array; weight: Float32Array }): FullTraining {
  const C = cfg.hiddenSize, V = cfg.vocabSize;
  const params: TrainableWeight[] = [];
  const grads: Float32Array[] = [];
  const add = (name: string, shape: number[], data: Float32Array, grad: Float32Array, decay: boolean): void => {
    params.push({ name, shape, data, decay });
    grads.push(grad);
  };
  const embedGrad = new Float32Array(embed.length);
  add('model.embed_tokens.weight', [V, C], embed, embedGrad, true);
  const layerGrads = layers.map((layer, l) => {
    const p = `model.layers.${l}`;
    const lg = { groups: mapGroups((group) => new Float32Array(layer.float![group].length)), ln1: new Float32Array(C), ln2: new Float32Array(C), qkvBias: layer.qkvBias ? new Float32Array(layer.qkvBias.length) : undefined };
    add(`${p}.input_layernorm.weight`, [C], layer.ln1, lg.ln1, false);
    add(`${p}.post_attention_layernorm.weight`, [C], layer.ln2, lg.ln2, false);
    for (const group of GROUP_NAMES) {
      let row = 0;
      for (const m of GROUPS[group]) {
        const [out, inDim] = linearShape(cfg, m);
        const range = [row * inDim, (row + out) * inDim] as const;
        add(`${linearPath(l, m)}.weight`, [out, inDim], layer.float![group].subarray(...range), lg.groups[group].subarray(...range), true);
        if (group === 'qkv' && layer.qkvBias) add(`${linearPath(l, m)}.bias`, [out], layer.qkvBias.subarray(row, row + out), lg.qkvBias!.subarray(row, row + out), false);
        row += out;
      }
    }
    return lg;
  });
  const normGrad = new Float32Array(C);
  add('model.norm.weight', [C], head.norm, normGrad, false);
  let headGrad = embedGrad;
  if (head.weight !== embed) {
    headGrad = new Float32Array(head.weight.length);
    add('lm_head.weight', [V, C], head.weight, headGrad, true);
  }
  return { params, grads, layers: layerGrads, embedGrad, headGrad, normGrad, headScratch: new Float32Array(V * C), normScratch: new Float32Array(C) };
}

function checkQuantized(base: BaseModel): void {
  const qs = [...(base.quantized?.values() ?? [])];
  for (const q of qs) {
    if (q.bits !== 4) throw new Error(`training engine: only 4-bit quantized bases train (got ${q.bits}-bit)`);
    if (q.K % q.blockSize !== 0) throw new Error(`training engine: in-features ${q.K} not a multiple of block size ${q.blockSize}`);
  }
}

function mapGroups<T>(f: (group: GroupName) => T): Record<GroupName, T> {
  return Object.fromEntries(GROUP_NAMES.map((g) => [g, f(g)])) as Record<GroupName, T>;
}

function rowsOf(cfg: LlamaConfig, group: GroupName): number {
  return GROUPS[group].reduce((s, m) => s + linearShape(cfg, m)[0], 0);
}

/** A layer's norms and fused group weights (q/k/v and gate/up concatenated row-wise). */
function layerWeights(base: BaseModel, l: number, consume: boolean): LayerWeights {
  const p = `model.layers.${l}`;
  const f32 = (name: string): Float32Array => {
    const t = base.weights.get(name);
    if (!t) throw new Error(`training engine: missing base weight ${name}`);
    return t.dtype === 'F32' ? (t.data as Float32Array) : toFloat32(t);
  };
  const paths = mapGroups((group) => GROUPS[group].map((m) => linearPath(l, m)));
  const layer: LayerWeights = { ln1: f32(`${p}.input_layernorm.weight`), ln2: f32(`${p}.post_attention_layernorm.weight`) };
  if (base.config.attentionBias) layer.qkvBias = concat(paths.qkv.map((path) => f32(`${path}.bias`)));
  const quantized = paths.qkv.some((path) => base.quantized?.has(path));
  if (!quantized) {
    layer.float = mapGroups((group) => concat(paths[group].map((path) => f32(`${path}.weight`))));
    if (consume) for (const group of GROUP_NAMES) for (const path of paths[group]) base.weights.delete(`${path}.weight`);
    return layer;
  }
  layer.quantized = mapGroups((group) => {
    const qs = paths[group].map((path) => {
      const q = base.quantized!.get(path);
      if (!q) throw new Error(`training engine: ${path} is not quantized while the rest of the base is`);
      return q;
    });
    const q0 = qs[0]!;
    if (qs.some((q) => q.blockSize !== q0.blockSize || q.K !== q0.K)) throw new Error(`training engine: ${paths[group].join(', ')} disagree on block size or width`);
    const zpRow = Math.ceil(q0.nBlocks / 2);
    // Zero points are kept when any module has them; a symmetric module's are the midpoint 8.
    const zeroPoints = qs.some((q) => q.zeroPoints) ? concat(qs.map((q) => q.zeroPoints ?? new Uint8Array(q.N * zpRow).fill(0x88))) : undefined;
    return { ...q0, symmetric: zeroPoints === undefined, N: qs.reduce((s, q) => s + q.N, 0), codes: concat(qs.map((q) => q.codes)), scales: concat(qs.map((q) => q.scales)), zeroPoints };
  });
  if (consume) for (const group of GROUP_NAMES) for (const path of paths[group]) base.quantized!.delete(path);
  return layer;
}

/** Concatenation of typed arrays of one kind (the array itself when there is one). */
function concat<T extends Float32Array | Uint8Array>(parts: T[]): T {
  if (parts.length === 1) return parts[0]!;
  const out = new (parts[0]!.constructor as new (n: number) => T)(parts.reduce((s, x) => s + x.length, 0));
  let off = 0;
  for (const x of parts) {
    out.set(x, off);
    off += x.length;
  }
  return out;
}
