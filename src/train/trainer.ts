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
import { InternalError, StageFailure } from '../core/errors.js';
import { Prng, deriveSeed } from '../core/prng.js';
import type { HostTensor } from '../model/tensor.js';
import type { TrainingArguments } from './arguments.js';
import { loadCheckpoint, saveCheckpoint, type LogEntry, type TrainerState } from './checkpoint.js';
import { makeBatch, type Example } from './data.js';
import { dropoutMasks } from './dropout.js';
import { dropoutSlots, type LoraTensors } from './lora.js';
import { decoderArchitecture } from '../model/architectures/index.js';
import { adamWMoments, addInto, clipAndUpdate, learningRate, scaleAndNorm, warmupSteps } from './optimizer.js';
import { createTrainingStep, type BaseModel, type TokenBatch, type Trainable } from './step/index.js';

export interface TrainerInput {
  /** The frozen base; the training step takes its decoder linears (held fused, once). */
  base: BaseModel;
  /**
   * What is trained: LoRA branches (`params`, a fresh PEFT init or an init_adapter, modified in
   * place), or every weight of a float base.
   */
  trainable: Trainable;
  train: Example[];
  val: Example[];
  padTokenId: number;
  args: TrainingArguments;
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
  /** Per optimizer step run here: labelled tokens and wall-clock time (not part of any artifact: it varies run to run). */
  throughput: Array<{ step: number; tokens: number; tokensPerSecond: number; seconds: number }>;
}

export function plannedSteps(trainExamples: number, args: Pick<TrainingArguments, 'per_device_train_batch_size' | 'gradient_accumulation_steps' | 'num_train_epochs' | 'max_steps'>): number {
  const batches = Math.ceil(trainExamples / args.per_device_train_batch_size);
  return args.max_steps > 0 ? args.max_steps : Math.max(1, Math.ceil((args.num_train_epochs * batches) / args.gradient_accumulation_steps));
}

export async function train(input: TrainerInput): Promise<TrainerResult> {
  const { args, trainable } = input;
  const batchSize = args.per_device_train_batch_size, accumulation = args.gradient_accumulation_steps;
  const nBatches = Math.ceil(input.train.length / batchSize);
  const streamLength = args.max_steps > 0 ? Number.POSITIVE_INFINITY : Math.ceil(args.num_train_epochs * nBatches);
  const total = plannedSteps(input.train.length, args);
  const warmup = warmupSteps(total, args.warmup_ratio);
  const maxLen = Math.max(...input.train.map((e) => e.ids.length), ...input.val.map((e) => e.ids.length));

  const lora = trainable.kind === 'lora' ? trainable : undefined;
  // An auxiliary loss (MoE load balancing) joins the objective when the config asks for it
  // (transformers: output_router_logits, weighted by router_aux_loss_coef).
  const cfg = input.base.config;
  const auxWeight = decoderArchitecture(cfg).auxLoss?.weight(cfg) ?? 0;
  // The step takes the decoder linears out of input.base (it holds them fused, once).
  const session = await createTrainingStep({ base: input.base, trainable, maxPositions: maxLen + 1, threads: input.threads, consumeBase: true, auxLoss: auxWeight > 0 });
  // Everything trained, as one flat list (LoRA A₀, B₀, A₁, B₁, …, or every weight): views of
  // the buffers the step feeds, updated in place.
  const trained = session.parameters();
  const tensors = trained.map((t) => t.data);
  let moments = tensors.map((t) => adamWMoments(t.length));
  const decay = trained.map((t) => t.decay);
  // Gradient sums over micro-batches (gradient accumulation), allocated once.
  const accumulators = accumulation > 1 ? tensors.map((t) => new Float32Array(t.length)) : [];
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
  const dropout = lora !== undefined && lora.lora.lora_dropout > 0;
  // Dropout masks per slot: a site's own [N, in], or an MoE layer's experts' shared [N·k, in].
  const slots = lora ? dropoutSlots(lora.sites) : [];
  const pairsPerToken = decoderArchitecture(cfg).routing?.pairsPerToken(cfg) ?? 1;
  const slotRows = slots.map((s) => (s.rows === 'pairs' ? pairsPerToken : 1));
  const orders = new Map<number, number[]>();
  const orderOf = (epoch: number): number[] => {
    let o = orders.get(epoch);
    if (!o) {
      o = new Prng(deriveSeed(args.seed, `epoch:${epoch}`)).shuffle(input.train.map((_, i) => i));
      orders.clear();
      orders.set(epoch, o);
    }
    return o;
  };
  const microBatch = (k: number): TokenBatch => {
    const epoch = Math.floor(k / nBatches), j = k % nBatches;
    const order = orderOf(epoch);
    return makeBatch(order.slice(j * batchSize, (j + 1) * batchSize).map((i) => input.train[i]!), input.padTokenId);
  };
  const onesCache = new Map<number, Uint8Array[]>();
  const evalMasks = (tokens: number): Uint8Array[] | undefined => {
    if (!dropout) return undefined;
    let m = onesCache.get(tokens);
    if (!m) onesCache.set(tokens, (m = slots.map((s, i) => new Uint8Array(tokens * slotRows[i]! * s.inDim).fill(1))));
    return m;
  };
  // The step folds dropout's 1/(1 − p) into the branch scaling; evaluation keeps every input
  // (all-ones masks), so it runs with B·(1 − p) to score the adapter as saved and as PEFT runs
  // it. The B buffers are the ones the step feeds: scaled for the evaluation, then restored
  // bit for bit from a copy.
  const loraB = dropout ? trained.filter((t) => t.name.endsWith('.lora_B.weight')) : [];
  const withEvalScaling = async <T>(evaluation: () => Promise<T>): Promise<T> => {
    if (!lora || loraB.length === 0) return evaluation();
    const saved = loraB.map((t) => t.data.slice());
    const keep = 1 - lora.lora.lora_dropout;
    for (const t of loraB) for (let i = 0; i < t.data.length; i++) t.data[i]! *= keep;
    try {
      return await evaluation();
    } finally {
      loraB.forEach((t, i) => t.data.set(saved[i]!));
    }
  };
  const evaluate = (): Promise<number> => withEvalScaling(async () => {
    let lossSum = 0, tokens = 0;
    for (let i = 0; i < input.val.length; i += batchSize) {
      const batch = makeBatch(input.val.slice(i, i + batchSize), input.padTokenId);
      const out = await session.run(batch, evalMasks(batch.B * batch.T));
      lossSum += out.lossSum;
      tokens += batch.tokens;
    }
    return lossSum / tokens;
  });
  const checkpoint = (): void => saveCheckpoint(input.workDir, { state, params: tensors, moments, best });

  const throughput: TrainerResult['throughput'] = [];
  try {
    for (let step = state.step; step < total; step++) {
      input.signal?.throwIfAborted();
      const started = performance.now();
      let grads: Float32Array[] | undefined;
      let lossSum = 0, seen = 0;
      const batches: TokenBatch[] = [];
      for (let mb = 0; mb < accumulation && step * accumulation + mb < streamLength; mb++) batches.push(microBatch(step * accumulation + mb));
      const tokens = batches.reduce((n, b) => n + b.tokens, 0);
      // The auxiliary loss enters each micro-batch's gradient scaled so that, after the division by
      // the step's tokens below, the objective is mean cross-entropy + coef × mean aux over micro-batches.
      const auxLossScale = (auxWeight * tokens) / batches.length;
      let auxSum = 0;
      for (const [mb, batch] of batches.entries()) {
        const masks = dropout ? dropoutMasks(slots.map((s) => s.inDim), batch.B * batch.T, lora.lora.lora_dropout, args.seed, step, mb, slotRows) : undefined;
        const out = await session.run(batch, masks, { auxLossScale });
        lossSum += out.lossSum;
        auxSum += out.auxLoss ?? 0;
        seen = step * accumulation + mb;
        if (batches.length === 1) grads = out.grads; // one micro-batch: its gradients are the step's (the step's buffers, read before its next run)
        else {
          grads ??= accumulators.map((a) => a.fill(0));
          out.grads.forEach((g, i) => addInto(grads![i]!, g));
        }
      }
      if (!grads) throw new InternalError(`trainer: optimizer step ${step + 1} has no micro-batch`);
      const auxLoss = auxSum / batches.length;
      const loss = lossSum / tokens + auxWeight * auxLoss;
      const norm = scaleAndNorm(grads, tokens); // g ← g / tokens, and its global norm
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
        const kept = state.step > 0 && args.save_steps > 0 ? ` The last good checkpoint (step ${Math.floor(state.step / args.save_steps) * args.save_steps}) is kept in ${input.workDir}.` : '';
        throw new StageFailure('non-finite-loss', `training diverged at optimizer step ${step + 1}: loss ${loss}, gradient norm ${norm} (try a lower learning_rate or max_grad_norm).${kept}`);
      }
      const lr = learningRate(args.lr_scheduler_type, args.learning_rate, step, total, warmup);
      // Clipping and AdamW in one sweep; transformers' Trainer decays every weight but biases and norm gains (TrainedTensor.decay).
      clipAndUpdate(tensors, grads, moments, decay, norm, args.max_grad_norm, step + 1, lr, args);
      state.step = step + 1;
      const entry: LogEntry = { step: step + 1, epoch: round6((seen + 1) / nBatches), loss: round6(loss), learning_rate: lr, grad_norm: round6(norm), num_tokens: tokens };
      if (auxWeight > 0) entry.aux_loss = round6(auxLoss);
      const seconds = (performance.now() - started) / 1000;
      throughput.push({ step: step + 1, tokens, tokensPerSecond: tokens / seconds, seconds });
      const last = step + 1 === total;
      if ((args.eval_steps > 0 && (step + 1) % args.eval_steps === 0) || last) {
        if (input.val.length > 0) {
          const evalLoss = await evaluate();
          entry.eval_loss = round6(evalLoss);
          if (input.evalMetrics && lora) for (const [name, value] of Object.entries(await input.evalMetrics(lora.params, step + 1))) entry[`eval_${name}`] = round6(value);
          if (!Number.isFinite(evalLoss)) throw new StageFailure('non-finite-loss', `val loss is ${evalLoss} after optimizer step ${step + 1}`);
          if (!state.best || evalLoss < state.best.evalLoss) {
            state.best = { step: step + 1, evalLoss: round6(evalLoss) };
            best = tensors.map((t) => Float32Array.from(t));
          }
        }
      }
      if (args.logging_steps <= 1 || (step + 1) % args.logging_steps === 0 || last || entry.eval_loss !== undefined) state.logHistory.push(entry);
      if (args.save_steps > 0 && (step + 1) % args.save_steps === 0 && !last) checkpoint();
      input.onStep?.(step + 1, total, entry);
    }
  } finally {
    await session.release();
  }
  const bestTensors = best ?? tensors;
  const asLora = (list: Float32Array[]): LoraTensors[] => (lora ? lora.params.map((_, i) => ({ A: list[2 * i]!, B: list[2 * i + 1]! })) : []);
  const bestWeights = lora ? undefined : new Map(trained.map((t, i): [string, HostTensor] => [t.name, { dtype: 'F32', shape: t.shape, data: bestTensors[i]! }]));
  return { final: asLora(tensors), best: asLora(bestTensors), bestWeights, state, totalSteps: total, resumedFromStep, throughput };
}

/** Log values rounded so that trainer_state.json reads cleanly (the adapter keeps full precision). */
function round6(x: number): number {
  return Number(x.toPrecision(7));
}
