/**
 * The built-in stages. Each `stages/<type>/index.ts` default-exports a StageDefinition and is
 * cheap to import (see src/engine/contract.ts). Add one line per stage, keep them sorted.
 */
import type { StageDefinition } from '../src/engine/contract.js';
import { StageRegistry } from '../src/engine/registry.js';
import buildChatml from './build-chatml/index.js';
import command from './command/index.js';
import fetchModel from './fetch-model/index.js';
import generate from './generate/index.js';
import initModel from './init-model/index.js';
import loraTrain from './lora-train/index.js';
import mergeAdapter from './merge-adapter/index.js';
import pretrainingCorpus from './pretraining-corpus/index.js';
import quantize from './quantize/index.js';
import report from './report/index.js';
import importDataset from './import-dataset/index.js';
import importPredictions from './import-predictions/index.js';
import samplePersonas from './sample-personas/index.js';
import score from './score/index.js';
import synthesizeResponses from './synthesize-responses/index.js';

export const builtinStages: StageDefinition[] = [
  buildChatml,
  command,
  fetchModel,
  generate,
  initModel,
  loraTrain,
  mergeAdapter,
  pretrainingCorpus,
  quantize,
  report,
  importDataset,
  importPredictions,
  samplePersonas,
  score,
  synthesizeResponses,
];

export function builtinRegistry(): StageRegistry {
  const registry = new StageRegistry();
  for (const stage of builtinStages) registry.register(stage);
  return registry;
}
