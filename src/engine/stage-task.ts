/**
 * What crosses the executor seam (executor.ts), as data: the StageTask a builder gets, the
 * StageJob one stage's run() is called with, and the callbacks and context around them. Kept
 * apart from executor.ts so that build.ts, which both executors end in, can use them.
 */
import type { ArtifactRef } from './contract.js';
import type { ArtifactStore, StageKey, StageRecordDraft } from './store/index.js';
import type { ExecutorSettings } from './executors/settings.js';

export interface StageTask {
  /** Stage key (hex sha256): the entry to build. */
  key: StageKey;
  stageId: string;
  type: string;
  /** The stage definition's version (recorded in stage.json). */
  version: number;
  /** Pipeline name (recorded in stage.json). */
  pipeline: string;
  /**
   * Params as planned: `${{ outputs.dir }}` and `${{ stages.X.outputs.dir }}` still unresolved,
   * because only the builder knows its staging dir (a node's differs from the submitter's).
   */
  params: Record<string, unknown>;
  inputs: ArtifactRef[];
  pipelineDir: string;
  seed: number;
  threads: number;
  /** What stage.json records as the key's inputs. */
  record: Pick<StageRecordDraft, 'params' | 'inputs' | 'deps'>;
  /** An entry for this key exists and is to be replaced (`--force`). */
  replace: boolean;
  /**
   * Params that are shell command lines (the stage definition's `shellParams`): runtime paths
   * substituted into them are shell-quoted where they stand.
   */
  shellParams?: string[];
}

/** One stage's run() as an in-process call sees it: a StageTask with its dirs resolved. */
export interface StageJob {
  stageId: string;
  type: string;
  /** Params with runtime expressions already substituted. */
  params: Record<string, unknown>;
  inputs: ArtifactRef[];
  outDir: string;
  workDir: string;
  pipelineDir: string;
  seed: number;
  threads: number;
}

export interface JobCallbacks {
  progress(done: number, total?: number, note?: string): void;
  log(level: 'info' | 'warn' | 'debug', message: string): void;
}

export interface JobResult {
  /** Fields the stage added with ctx.recordProvenance. */
  provenance: Record<string, unknown>;
}

export interface BuildContext {
  store: ArtifactStore;
  callbacks: JobCallbacks;
  /** Aborted when the run is cancelled: stop, clean up (cancel remote jobs), throw signal.reason. */
  signal: AbortSignal;
  /** The stage's `executor:` settings (resources for a cluster job). */
  settings: ExecutorSettings;
}
