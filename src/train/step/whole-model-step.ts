/**
 * A small model's training step as one ONNX Runtime run per micro-batch (graphs/whole-model.ts):
 * every layer's forward, the head in row chunks and every layer's backward in one graph, so the
 * saved activations stay inside ONNX Runtime. onnxruntime-node 1.30 copies each output of a run
 * into a fresh ArrayBuffer (preallocated fetches included), and the layerwise step's forward
 * returns all its saved activations: at the tiny shape that copying, and the per-run work around
 * it, was about a third of the step.
 *
 * Same inputs, same ops and the same host-side sums as LayerwiseStep, so the same loss and
 * gradients bit for bit (tested). It holds every layer's activations in ORT's arena at once, so
 * createTrainingStep picks it only for small models (graphs/spec.ts suitsWholeModel); a 4-bit base's weights
 * are dequantized once and kept (the base is frozen), for the forward and the backward alike.
 */
import { performance } from 'node:perf_hooks';
import type { InferenceSession, OrtTensor } from '../../model/onnx/session.js';
import { dequantize4BitInto } from '../../model/quantize/nbits.js';
import { buildWholeModel, headName, layerName } from '../graphs/whole-model.js';
import { auxStatistics } from '../graphs/spec.js';
import { attentionBias, embedRows, HEAD_ROWS, stepSetup, type StepSetup } from './layerwise-step.js';
import type { RunOptions, StepResult, TokenBatch, TrainedTensor, TrainingStep, TrainingStepOptions } from './step.js';
import type { TensorOf } from './trained-part.js';
import { InternalError } from '../../core/errors.js';

export class WholeModelStep implements TrainingStep {
  /** One session per head-chunk count met so far (a batch of N tokens needs ⌈N / headRows⌉). */
  private readonly sessions = new Map<number, { session: InferenceSession; layerInputs: Array<Map<string, string>>; headInputs: Set<string> }>();
  private readonly buffers = new Map<string, Float32Array>();

  private constructor(
    private readonly setup: StepSetup,
    /** Per layer, the float weight [rows, in] of each group (a 4-bit group dequantized once). */
    private readonly groupWeights: Array<Map<string, Float32Array>>,
    private readonly headRows: number,
    private readonly opts: StepSetup['opts'],
  ) {}

  static async create(options: TrainingStepOptions): Promise<WholeModelStep> {
    const setup = await stepSetup(options);
    if (auxStatistics(setup.spec).length > 0) throw new InternalError('training step: the whole-model step has no auxiliary loss; use the layerwise step');
    const groupWeights = setup.weights.layers.map((layer) => new Map(setup.groups.map((group) => {
      const float = layer.float?.get(group.name);
      return [group.name, float ?? dequantize4BitInto(layer.quantized!.get(group.name)!, new Float32Array(group.rows * group.inDim))];
    })));
    // Sessions are built on first use, one per head-chunk count (most runs meet one or two).
    return new WholeModelStep(setup, groupWeights, Math.max(1, Math.floor(options.headRows ?? HEAD_ROWS)), setup.opts);
  }

  parameters(): TrainedTensor[] {
    return this.setup.trained.parameters();
  }

  private async sessionFor(chunks: number) {
    let s = this.sessions.get(chunks);
    if (!s) {
      const built = buildWholeModel(this.setup.spec, chunks, this.headRows);
      const session = await this.setup.ort.InferenceSession.create(built.graph.toBytes(), this.opts);
      this.sessions.set(chunks, (s = { session, layerInputs: built.layerInputs, headInputs: built.headInputs }));
    }
    return s;
  }

  async run(batch: TokenBatch, masks?: Uint8Array[], _options: RunOptions = {}): Promise<StepResult> {
    const { ort, spec, weights, trained, groups, rope } = this.setup;
    const cfg = spec.config;
    const C = cfg.hiddenSize, R = spec.arch.rotaryDim(cfg), N = batch.B * batch.T, L = cfg.numHiddenLayers;
    const tensor: TensorOf = (type, data, dims) => new ort.Tensor(type as 'float32', data as Float32Array, dims);
    const seconds = { forward: 0, head: 0, backward: 0, host: 0 };
    let mark = performance.now();
    const chunks = Math.ceil(N / this.headRows);
    const { session, layerInputs, headInputs } = await this.sessionFor(chunks);
    trained.begin(N, masks);
    const feeds: Record<string, OrtTensor> = {
      h: tensor('float32', embedRows(weights.embed, cfg.vocabSize, batch.inputIds, C), [N, C]),
      labels: new ort.Tensor('int64', batch.labels, [N]),
      mask_bias: tensor('float32', attentionBias(batch), [batch.B, 1, 1, batch.T, batch.T]),
      cos: tensor('float32', rope.cos.subarray(0, batch.T * R), [batch.T, R]),
      sin: tensor('float32', rope.sin.subarray(0, batch.T * R), [batch.T, R]),
    };
    for (const name of headInputs) {
      const data = weights.head.get(name);
      if (!data) throw new InternalError(`training step: the head wants ${name}, which the base does not have`);
      feeds[name] = tensor('float32', data, name === spec.arch.lmHead(cfg).weight ? [cfg.vocabSize, C] : [data.length]);
    }
    const fetches: Record<string, OrtTensor | null> = { dh0: tensor('float32', this.buffer('dh0', N * C), [N, C]) };
    for (let l = 0; l < L; l++) {
      const inputs = layerInputs[l]!;
      const wants = new Set(inputs.values());
      const mine: Record<string, OrtTensor> = {};
      const w = weights.layers[l]!;
      for (const [name, data] of w.tensors) if (wants.has(name)) mine[name] = tensor('float32', data, [data.length]);
      for (const group of groups) {
        const bias = w.biases.get(group.name);
        if (bias && wants.has(`b.${group.name}`)) mine[`b.${group.name}`] = tensor('float32', bias, [bias.length]);
        if (wants.has(`w.${group.name}`)) mine[`w.${group.name}`] = tensor('float32', this.groupWeights[l]!.get(group.name)!, [group.rows, group.inDim]);
      }
      trained.feedLayer(l, mine, wants, tensor);
      for (const [whole, name] of inputs) {
        const t = mine[name];
        if (!t) throw new InternalError(`training step: nothing feeds layer ${l}'s ${name}`);
        feeds[whole] = t;
      }
      const grads: Record<string, OrtTensor | null> = {};
      trained.fetchLayer(l, grads, tensor);
      for (const [name, t] of Object.entries(grads)) fetches[layerName(l, name)] = t;
    }
    // The head's gradients per chunk: each chunk its own buffers, added on the host in chunk
    // order through the trained part's own scratch tensors (as the layerwise step's head runs).
    const headScratch: Record<string, OrtTensor | null> = {};
    trained.fetchHead(headScratch, tensor);
    for (let c = 0; c < chunks; c++) {
      fetches[headName(c, 'loss_sum')] = null;
      for (const [name, t] of Object.entries(headScratch)) fetches[headName(c, name)] = tensor('float32', this.buffer(`${c}:${name}`, t!.data.length), t!.dims as number[]);
    }
    const lap = (phase: keyof typeof seconds): void => {
      const now = performance.now();
      seconds[phase] += (now - mark) / 1000;
      mark = now;
    };
    lap('host');
    const out = await session.run(feeds, fetches);
    lap('forward'); // the whole run: forward, head and backward
    let lossSum = 0;
    for (let c = 0; c < chunks; c++) {
      lossSum += (out[headName(c, 'loss_sum')]!.data as Float32Array)[0]!;
      for (const [name, t] of Object.entries(headScratch)) (t!.data as Float32Array).set(this.buffer(`${c}:${name}`, t!.data.length));
      trained.takeHead();
    }
    for (let l = L - 1; l >= 0; l--) {
      const mine: Record<string, OrtTensor> = {};
      const prefix = layerName(l, '');
      for (const [name, t] of Object.entries(out)) if (name.startsWith(prefix)) mine[name.slice(prefix.length)] = t;
      trained.takeLayer(l, mine);
    }
    const grads = trained.finish(this.buffer('dh0', N * C), batch);
    lap('host');
    return { lossSum, grads, seconds };
  }

  /** A reusable float buffer of at least `size` values, viewed at `size`. */
  private buffer(key: string, size: number): Float32Array {
    let b = this.buffers.get(key);
    if (!b || b.length < size) this.buffers.set(key, (b = new Float32Array(size)));
    return b.subarray(0, size);
  }

  async release(): Promise<void> {
    for (const { session } of this.sessions.values()) {
      if (this.opts.enableProfiling) session.endProfiling();
      await session.release();
    }
    this.sessions.clear();
  }
}
