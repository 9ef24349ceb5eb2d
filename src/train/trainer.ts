/**
 * The training loop: micro-batches through the training graph, gradient accumulation over
 * `gradient_accumulation_steps` micro-batches (gradients and loss normalised by the labelled
 * tokens of the whole optimizer step), global-norm clipping, AdamW with a warmup + decay
 * schedule, evaluation on the val split, best-by-val-loss tracking and checkpoints.
 *
 * Data order: the micro-batches of all epochs form one stream; epoch e visits the train examples
 * in the order of a shuffle seeded by (seed, e), and optimizer step k consumes stream entries
 * [k·accum, (k+1)·accum). Together with dropout masks seeded by (seed, step, micro-batch) this
 * makes a run a pure function of its inputs and lets a checkpoint store just the step.
 */
import { performance } from 'node:perf_hooks';
import { StageFailure } from '../core/errors.js';
import { Prng, deriveSeed } from '../core/prng.js';
import type { HostTensor } from '../model/tensor.js';
import type { LoraConfig, LoraSite, LoraTensors } from './lora.js';
import { loadCheckpoint, saveCheckpoint, type LogEntry, type TrainerState } from './checkpoint.js';
import { makeBatch, type Example } from './data.js';
import { dropoutMasks } from './dropout.js';
import { adamWMoments, adamWUpdate, addInto, clipGradients, globalNorm, learningRate, warmupSteps, type AdamWConfig, type SchedulerType } from './optimizer.js';
import { TrainingEngine, type BaseModel, type TokenBatch } from './engine.js';

export interface TrainingHyperParams {
  learningRate: number;
  weightDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  scheduler: SchedulerType;
  warmupRatio: number;
  epochs: number;
  batchSize: number;
  gradientAccumulation: number;
  maxGradNorm: number;
  /** > 0 overrides epochs. */
  maxSteps: number;
  /** 0 = evaluate only at the end. */
  evalSteps: number;
  /** 0 = no intermediate checkpoints. */
  saveSteps: number;
  loggingSteps: number;
  seed: number;
}

export interface TrainerInput {
  /** The frozen base; the training engine takes its decoder linears (held fused, once). */
  base: BaseModel;
  lora: LoraConfig;
  sites: LoraSite[];
  /**
   * `lora` (default): train `params`, the LoRA tensors. `full`: train every weight of the (float)
   * base instead; `params` and `sites` are then empty.
   */
  trainable?: 'lora' | 'full';
  /** Starting LoRA tensors (fresh PEFT init or an init_adapter); modified in place. */
  params: LoraTensors[];
  train: Example[];
  val: Example[];
  padTokenId: number;
  hp: TrainingHyperParams;
  threads: number;
  workDir: string;
  fingerprint: string;
  signal?: AbortSignal;
  /**
   * Extra evaluation after each val loss (LoRA runs): metrics of the current adapter, logged as
   * `eval_<name>`. Must be deterministic, as everything in log_history is.
   */
  evalMetrics?(params: LoraTensors[], step: number): Promise<Record<string, number>>;
  onStep?(step: number, total: number, entry: LogEntry): void;
}

export interface TrainerResult {
  /** The LoRA adapter after the last step (LoRA runs). */
  final: LoraTensors[];
  /** The adapter with the lowest val loss (the final one when there is no val split). */
  best: LoraTensors[];
  /** Full fine-tuning: every weight by HF name (best by val loss, else final). */
  bestWeights?: Map<string, HostTensor>;
  state: TrainerState;
  totalSteps: number;
  resumedFromStep: number;
  /** Per logged step, wall-clock throughput (not part of any artifact: it varies run to run). */
  throughput: Array<{ step: number; tokensPerSecond: number; seconds: number }>;
}

export function plannedSteps(trainExamples: number, hp: Pick<TrainingHyperParams, 'batchSize' | 'gradientAccumulation' | 'epochs' | 'maxSteps'>): number {
  const batches = Math.ceil(trainExamples / hp.batchSize);
  return hp.maxSteps > 0 ? hp.maxSteps : Math.max(1, Math.ceil((hp.epochs * batches) / hp.gradientAccumulation));
}

export async function train(input: TrainerInput): Promise<TrainerResult> {
  const { hp, sites, lora } = input;
  const nBatches = Math.ceil(input.train.length / hp.batchSize);
  const streamLength = hp.maxSteps > 0 ? Number.POSITIVE_INFINITY : Math.ceil(hp.epochs * nBatches);
  const total = plannedSteps(input.train.length, hp);
  const warmup = warmupSteps(total, hp.warmupRatio);
  const adam: AdamWConfig = { lr: hp.learningRate, beta1: hp.adamBeta1, beta2: hp.adamBeta2, eps: hp.adamEpsilon, weightDecay: hp.weightDecay };
  const maxLen = Math.max(...input.train.map((e) => e.ids.length), ...input.val.map((e) => e.ids.length));

  const full = input.trainable === 'full';
  // The engine takes the decoder linears out of input.base (it holds them fused, once).
  const session = await TrainingEngine.create(input.base, { lora, sites, maxPositions: maxLen + 1, threads: input.threads, consumeBase: true, trainable: input.trainable });
  // Everything trained, as one flat list: LoRA A₀, B₀, A₁, B₁, …, or every weight (views of the
  // engine's buffers) for full fine-tuning. Updated in place.
  const weights = full ? session.parameters() : undefined;
  const tensors: Float32Array[] = weights ? weights.map((w) => w.data) : input.params.flatMap((p) => [p.A, p.B]);
  // transformers' Trainer decays every weight but biases and norm gains; LoRA A and B are weights.
  const decayed: boolean[] = weights ? weights.map((w) => w.decay) : tensors.map(() => true);
  let moments = tensors.map((t) => adamWMoments(t.length));
  let state: TrainerState = { step: 0, fingerprint: input.fingerprint, logHistory: [] };
  let best: Float32Array[] | undefined;
  let resumed: ReturnType<typeof loadCheckpoint>;
  try {
    resumed = loadCheckpoint(input.workDir, input.fingerprint, tensors.length);
  } catch (err) {
    await session.release(); // an unreadable checkpoint leaves no native session behind
    throw err;
  }
  if (resumed) {
    resumed.params.forEach((p, i) => tensors[i]!.set(p));
    moments = resumed.moments;
    state = resumed.state;
    best = resumed.best;
  }
  const resumedFromStep = state.step;
  const dropout = !full && lora.loraDropout > 0;
  const orders = new Map<number, number[]>();
  const orderOf = (epoch: number): number[] => {
    let o = orders.get(epoch);
    if (!o) {
      o = new Prng(deriveSeed(hp.seed, `epoch:${epoch}`)).shuffle(input.train.map((_, i) => i));
      orders.clear();
      orders.set(epoch, o);
    }
    return o;
  };
  const microBatch = (k: number): TokenBatch => {
    const epoch = Math.floor(k / nBatches), j = k % nBatches;
    const order = orderOf(epoch);
    return makeBatch(order.slice(j * hp.batchSize, (j + 1) * hp.batchSize).map((i) => input.train[i]!), input.padTokenId);
  };
  const onesCache = new Map<number, Uint8Array[]>();
  const evalMasks = (tokens: number): Uint8Array[] | undefined => {
    if (!dropout) return undefined;
    let m = onesCache.get(tokens);
    if (!m) onesCache.set(tokens, (m = sites.map((s) => new Uint8Array(tokens * s.inDim).fill(1))));
    return m;
  };
  // The engine folds dropout's 1/(1 − p) into the branch scaling; evaluation keeps every input
  // (all-ones masks), so it runs with B·(1 − p) to score the adapter as saved and as PEFT runs it.
  const evalParams = (): LoraTensors[] => (dropout ? input.params.map((p) => ({ A: p.A, B: p.B.map((b) => b * (1 - lora.loraDropout)) })) : input.params);
  const evaluate = async (): Promise<number> => {
    let lossSum = 0, tokens = 0;
    const params = evalParams();
    for (let i = 0; i < input.val.length; i += hp.batchSize) {
      const batch = makeBatch(input.val.slice(i, i + hp.batchSize), input.padTokenId);
      const out = await session.step(batch, params, evalMasks(batch.B * batch.T));
      lossSum += out.lossSum;
      tokens += batch.tokens;
    }
    return lossSum / tokens;
  };
  const checkpoint = (): void => saveCheckpoint(input.workDir, { state, params: tensors, moments, best });

  const throughput: TrainerResult['throughput'] = [];
  try {
    for (let step = state.step; step < total; step++) {
      input.signal?.throwIfAborted();
      const started = performance.now();
      const grads = tensors.map((t) => new Float32Array(t.length));
      let lossSum = 0, tokens = 0, seen = 0;
      for (let mb = 0; mb < hp.gradientAccumulation; mb++) {
        const k = step * hp.gradientAccumulation + mb;
        if (k >= streamLength) break;
        const batch = microBatch(k);
        const masks = dropout ? dropoutMasks(sites.map((s) => s.inDim), batch.B * batch.T, lora.loraDropout, hp.seed, step, mb) : undefined;
        const out = await session.step(batch, input.params, masks);
        lossSum += out.lossSum;
        tokens += batch.tokens;
        seen = k;
        const stepGrads = out.weightGrads ?? out.grads.flatMap((g) => [g.A, g.B]);
        stepGrads.forEach((g, i) => addInto(grads[i]!, g));
      }
      const loss = lossSum / tokens;
      for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i]! / tokens;
      const norm = globalNorm(grads);
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
        const kept = state.step > 0 && hp.saveSteps > 0 ? ` The last good checkpoint (step ${Math.floor(state.step / hp.saveSteps) * hp.saveSteps}) is kept in ${input.workDir}.` : '';
        throw new StageFailure('non-finite-loss', `training diverged at optimizer step ${step + 1}: loss ${loss}, gradient norm ${norm} (try a lower learning_rate or max_grad_norm).${kept}`);
      }
      clipGradients(grads, norm, hp.maxGradNorm);
      const lr = learningRate(hp.scheduler, hp.learningRate, step, total, warmup);
      tensors.forEach((t, i) => adamWUpdate(t, grads[i]!, moments[i]!, step + 1, lr, decayed[i] ? adam : { ...adam, weightDecay: 0 }));
      state.step = step + 1;
      const entry: LogEntry = { step: step + 1, epoch: round6((seen + 1) / nBatches), loss: round6(loss), learning_rate: lr, grad_norm: round6(norm), num_tokens: tokens };
      const seconds = (performance.now() - started) / 1000;
      throughput.push({ step: step + 1, tokensPerSecond: tokens / seconds, seconds });
      const last = step + 1 === total;
      if ((hp.evalSteps > 0 && (step + 1) % hp.evalSteps === 0) || last) {
        if (input.val.length > 0) {
          const evalLoss = await evaluate();
          entry.eval_loss = round6(evalLoss);
          if (input.evalMetrics && !full) for (const [name, value] of Object.entries(await input.evalMetrics(input.params, step + 1))) entry[`eval_${name}`] = round6(value);
          if (!Number.isFinite(evalLoss)) throw new StageFailure('non-finite-loss', `val loss is ${evalLoss} after optimizer step ${step + 1}`);
          if (!state.best || evalLoss < state.best.evalLoss) {
            state.best = { step: step + 1, evalLoss: round6(evalLoss) };
            best = tensors.map((t) => Float32Array.from(t));
          }
        }
      }
      if (hp.loggingSteps <= 1 || (step + 1) % hp.loggingSteps === 0 || last || entry.eval_loss !== undefined) state.logHistory.push(entry);
      if (hp.saveSteps > 0 && (step + 1) % hp.saveSteps === 0 && !last) checkpoint();
      input.onStep?.(step + 1, total, entry);
    }
  } finally {
    await session.release();
  }
  const bestTensors = best ?? tensors;
  const asLora = (list: Float32Array[]): LoraTensors[] => (full ? [] : input.params.map((_, i) => ({ A: list[2 * i]!, B: list[2 * i + 1]! })));
  const bestWeights = weights ? new Map(weights.map((w, i): [string, HostTensor] => [w.name, { dtype: 'F32', shape: w.shape, data: bestTensors[i]! }])) : undefined;
  return { final: asLora(tensors), best: asLora(bestTensors), bestWeights, state, totalSteps: total, resumedFromStep, throughput };
}

/** Log values rounded so that trainer_state.json reads cleanly (the adapter keeps full precision). */
function round6(x: number): number {
  return Number(x.toPrecision(7));
}
