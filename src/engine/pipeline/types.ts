import { formatLocation, UserError, type SourceLocation } from '../../core/errors.js';
import type { StageDefinition } from '../contract.js';
import type { ExecutorSettings } from '../executors/settings.js';

/** A matrix combination: axis name -> value. */
export type MatrixCombo = Record<string, string | number | boolean>;

/** One runnable stage after matrix expansion, params validated and compile-time expressions resolved. */
export interface PlannedStage {
  /** Expanded id: `adapter`, or for a matrix stage `adapter[phi-2]` (values in sorted axis-name order, comma-joined). */
  id: string;
  /** The id as written in YAML. */
  baseId: string;
  /** `uses:`; `command` for a stage with `run:` and no `uses:`. */
  type: string;
  definition: StageDefinition;
  /**
   * Validated against definition.paramsSchema with defaults filled; `${{ params.* }}` and
   * `${{ matrix.* }}` resolved. Runtime expressions stay in the strings, normalised to
   * `${{ stages.<expanded id>.outputs.dir }}` and `${{ outputs.dir }}` (see resolveRuntimeExpressions).
   */
  params: Record<string, unknown>;
  /** Expanded ids: explicit `needs` plus those implied by `${{ stages.X.outputs.dir }}`, in first-mention order. */
  needs: string[];
  matrix?: MatrixCombo;
  description?: string;
  /** file/line/column of the stage's key in the pipeline file. */
  location: SourceLocation;
  /** Absolute paths whose content joins the stage key: a command stage's `deps` + definition.fileDeps(). */
  fileDeps: string[];
  /**
   * Where the pipeline names one of fileDeps (a command stage's `deps[i]`, else the stage's
   * `with:`), for the error when a dep is missing at run time. Computed on demand: a cached load
   * never parses the YAML just to know positions.
   */
  depLocation?(path: string): SourceLocation;
  /**
   * Where the stage runs: the pipeline's `executor:` merged with the stage's own; absent when
   * neither gives one (then it runs locally). Never part of the stage key.
   */
  executor?: ExecutorSettings;
}

export interface LoadedPipeline {
  /** Absolute path of the pipeline file. */
  file: string;
  /** Absolute directory of the pipeline file. */
  dir: string;
  name: string;
  version: 1;
  params: Record<string, unknown>;
  /** params.seed when it is an integer, else 0. */
  seed: number;
  /** Absolute `cache_dir:` when the pipeline sets one (docs/cluster.md). */
  cacheDir?: string;
  /** Iteration order is a topological order, stable: YAML order among ready stages. */
  stages: Map<string, PlannedStage>;
  /** `-S` overrides applied at load, by full path (`stages.adapter.with.learning_rate`); absent without any. */
  overrides?: Record<string, unknown>;
  /** Direct dependents of a stage (expanded ids), in topological order. */
  dependents(id: string): string[];
  /** Stages that depend on any of `ids`, transitively, in topological order; `ids` themselves only if one depends on another. */
  downstream(ids: string[]): string[];
  /** Stages any of `ids` depend on, transitively, in topological order; `ids` themselves only if one needs another. */
  upstream(ids: string[]): string[];
  /**
   * Expanded ids for names a user typed (`--stage adapter`): an expanded id selects itself, a
   * base id selects all its expansions. Throws a UserError (with a did-you-mean) for an unknown name.
   */
  select(names: string[]): string[];
}

/** One problem found in a pipeline file. `path` is dotted: `stages.adapter.with.lerning_rate`. */
export interface PipelineIssue {
  location: SourceLocation;
  path: string;
  message: string;
}

/** Every problem found in a pipeline file, one per line: `file:line:col: path: message`. */
export class PipelineError extends UserError {
  readonly issues: PipelineIssue[];
  constructor(issues: PipelineIssue[]) {
    super('invalid-pipeline', issues.map(formatIssue).join('\n'), { location: issues[0]?.location });
    this.issues = issues;
  }
}

export function formatIssue(issue: PipelineIssue): string {
  const where = formatLocation(issue.location);
  // One issue, one line: a key or value quoted from the file may hold a line break.
  const message = issue.message.replace(/[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return issue.path ? `${where}: ${issue.path}: ${message}` : `${where}: ${message}`;
}
