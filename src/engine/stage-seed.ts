/** The seed a stage's run() gets (StageContext.seed): from what the stage is, never from what it consumes. */
import type { PlannedStage } from './pipeline/index.js';
import { deriveSeed } from '../core/prng.js';
import { canonicalJson } from '../core/canonical-json.js';
import { keyParams } from './key-params.js';

/**
 * The uint32 seed a stage's run() gets: from the pipeline seed and what the stage itself is (its
 * id as written, its matrix coordinates, its type and its key params), never from upstream output
 * digests. Two machines whose upstream artifacts differ in the last bits of a float (ONNX Runtime
 * reductions on another CPU) therefore draw the same LoRA init and dropout masks; the key still
 * holds the upstream digests, so a changed input still re-runs the stage.
 */
export function stageSeed(pipelineSeed: number, stage: Pick<PlannedStage, 'baseId' | 'matrix' | 'type' | 'params' | 'definition'>): number {
  return deriveSeed(pipelineSeed, stageSeedLabel(stage));
}

/** Canonical JSON of { stage, matrix, type, params }: the label stageSeed hashes with the pipeline seed. */
export function stageSeedLabel(stage: Pick<PlannedStage, 'baseId' | 'matrix' | 'type' | 'params' | 'definition'>): string {
  return canonicalJson({
    stage: stage.baseId,
    matrix: stage.matrix ?? null,
    type: stage.type,
    params: keyParams(stage.params, stage.definition.paramsSchema),
  });
}
