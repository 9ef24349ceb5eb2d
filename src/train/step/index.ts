/** The training step (one forward, loss and backward over a batch) and how one is made. */
import { decoderArchitecture } from '../../model/architectures/index.js';
import { savesAttentionProbs, suitsWholeModel } from '../graphs/spec.js';
import { LayerwiseStep } from './layerwise-step.js';
import type { TrainingStep, TrainingStepOptions } from './step.js';
import { WholeModelStep } from './whole-model-step.js';

export type { RunOptions, StepResult, TokenBatch, Trainable, TrainedTensor, TrainingStep, TrainingStepOptions } from './step.js';
export type { BaseModel } from './host-weights.js';
export { attentionBias } from './layerwise-step.js';

/**
 * The step for a run: one whole-model run per micro-batch for small models (≤ 64 M decoder
 * parameters, attention probabilities saved, no auxiliary loss: graphs/spec.ts suitsWholeModel), else layer by layer (one layer's
 * activations and working set in ONNX Runtime at a time). `options.engine` forces one; both give
 * the same results bit for bit.
 */
export function createTrainingStep(options: TrainingStepOptions): Promise<TrainingStep> {
  return chooseEngine(options) === 'whole-model' ? WholeModelStep.create(options) : LayerwiseStep.create(options);
}

/** The engine createTrainingStep runs for these options. */
export function chooseEngine(options: Pick<TrainingStepOptions, 'base' | 'maxPositions' | 'auxLoss' | 'saveAttentionProbs' | 'engine'>): 'layerwise' | 'whole-model' {
  if (options.engine && options.engine !== 'auto') return options.engine;
  const cfg = options.base.config;
  const arch = decoderArchitecture(cfg);
  const saveProbs = options.saveAttentionProbs ?? savesAttentionProbs(cfg, options.maxPositions);
  const auxLoss = (options.auxLoss ?? false) && arch.auxLoss !== undefined;
  return saveProbs && !auxLoss && suitsWholeModel(cfg, arch, options.maxPositions) ? 'whole-model' : 'layerwise';
}
