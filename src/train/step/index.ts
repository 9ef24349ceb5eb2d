/** The training step (one forward, loss and backward over a batch) and how one is made. */
import { LayerwiseStep } from './layerwise-step.js';
import type { TrainingStep, TrainingStepOptions } from './step.js';

export type { StepResult, TokenBatch, Trainable, TrainedTensor, TrainingStep, TrainingStepOptions } from './step.js';
export type { BaseModel } from './host-weights.js';
export { attentionBias } from './layerwise-step.js';

/**
 * The step for a run. Layer by layer today (one layer's activations and working set in ONNX
 * Runtime at a time); a whole-model step for small models plugs in here.
 */
export function createTrainingStep(options: TrainingStepOptions): Promise<TrainingStep> {
  return LayerwiseStep.create(options);
}
