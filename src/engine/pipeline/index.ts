/**
 * The pipeline loader: a YAML pipeline file -> a checked, matrix-expanded, topologically
 * ordered plan of stages. Format reference: docs/pipeline-format.md.
 */
export { loadPipeline, parsePipeline, type LoadOptions } from './load.js';
export { PipelineError, formatIssue, type LoadedPipeline, type MatrixCombo, type PipelineIssue, type PlannedStage } from './types.js';
export { resolveRuntimeExpressions } from './expressions.js';
export { renderDag } from './render.js';
export { expandedId } from './matrix.js';
export { parseOverride, type ParamOverride } from './overrides.js';
