/**
 * Failures as data. Library code throws one of the typed errors below, each with a `code` from
 * the closed list `FAILURE_CODES` (the compiler rejects any other string); only `src/cli` turns
 * them into one-paragraph messages and exit codes, by one exhaustive switch over `Failure`
 * (`src/cli/command.ts`). A code is stable and machine-readable: run records, exec-job results
 * and `--json` output carry it.
 *
 * Kinds and exit codes (CLI): `user` and `data` -> 2 (usage / validation), `stage` -> 1,
 * `internal` (an invariant broke: a bug) -> 1, cancelled -> 130.
 */

/** Every failure code, grouped by the area that raises it. */
export const FAILURE_CODES = {
  /** The command line and the project: flags, paths, what to run. */
  cli: ['usage', 'cancelled', 'no-pipeline', 'no-lock-file', 'no-output', 'missing-path', 'not-a-directory', 'output-escapes', 'ambiguous-input', 'unknown-stage', 'listen-failed', 'bad-run', 'no-run-record'],
  /** The pipeline file, stage params, inputs and deps, the lock file, job files. */
  pipeline: ['invalid-pipeline', 'invalid-params', 'bad-params', 'unknown-stage-type', 'bad-key', 'bad-digest', 'missing-input', 'stage-input', 'missing-dep', 'bad-lock-file', 'bad-job-file'],
  /** Reading a file (core/files.ts, formats/jsonl.ts). */
  files: ['missing-file', 'not-a-file', 'binary-file', 'invalid-utf8', 'file-too-large', 'bad-json', 'broken-lines', 'unsupported-file'],
  /** The artifact store and run history. */
  store: ['cache-corrupt', 'locked', 'bad-run-record'],
  /** Survey data: question banks, personas, quotas, teachers, datasets and splits. */
  survey: ['question-bank', 'persona-file', 'personas-input', 'quotas', 'raking', 'teacher-failures', 'teacher-request', 'prompt-too-long', 'build-chatml', 'import-dataset', 'import-rejected', 'bad-record', 'no-records', 'missing-split', 'empty-split'],
  /** Model dirs: config, weights, tokenizers. */
  model: ['missing-model-dir', 'missing-config', 'bad-config', 'unsupported-config', 'unsupported-architecture', 'unsupported-quantization', 'unsupported-encoder', 'unknown-preset', 'bad-layer', 'bad-safetensors', 'bad-safetensors-index', 'missing-tensor', 'missing-weight', 'missing-weights', 'extra-weight', 'unexpected-weight', 'weight-dtype', 'weight-shape', 'tokenizer', 'missing-tokenizer', 'bad-tokenizer', 'bad-chat-template'],
  /** The Hugging Face hub. */
  hub: ['hub-api', 'hub-auth', 'hub-http', 'hub-network', 'hub-download', 'hub-digest', 'hub-size', 'hub-no-files', 'hub-not-found', 'hub-offline', 'hub-repo', 'hub-revision'],
  /** Training and adapters. */
  train: ['missing-adapter', 'bad-adapter', 'init-adapter-mismatch', 'unknown-target-module', 'full-on-quantized', 'full-with-adapter', 'insufficient-memory', 'non-finite-loss'],
  /** Scoring and reports. */
  metrics: ['unknown-metric', 'missing-predictions', 'empty-predictions', 'import-predictions', 'bad-scores', 'bertscore-needs-encoder', 'bertscore-unavailable'],
  /** A stage's own run: it threw something not ours, its command failed, it wrote nothing. */
  stage: ['stage-threw', 'command-failed', 'missing-output'],
  /** The SLURM executor and its client commands. */
  slurm: ['slurm-missing', 'slurm-unreachable', 'slurm-submit-failed', 'slurm-no-entry', 'slurm-job-failed', 'slurm-job-lost', 'slurm-job-cancelled', 'slurm-nodes-unavailable', 'sbatch', 'squeue', 'scontrol', 'scancel'],
  /** An invariant of the program broke: a bug, never a user's mistake. */
  internal: ['internal'],
} as const;

export type FailureArea = keyof typeof FAILURE_CODES;
export type FailureCode = (typeof FAILURE_CODES)[FailureArea][number];

/** Which of the error classes below: what the CLI's switch decides on. */
export type FailureKind = 'user' | 'data' | 'stage' | 'internal';

export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

export interface ErrorOptions {
  cause?: unknown;
  location?: SourceLocation;
}

export abstract class PolypersonaError extends Error {
  abstract readonly kind: FailureKind;
  readonly code: FailureCode;
  /** Where the problem is, when known: a file, optionally with 1-based line/column. */
  readonly location?: SourceLocation;
  constructor(code: FailureCode, message: string, options?: ErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.location = options?.location;
  }
}

/** A mistake in something the user wrote or passed: a pipeline, a flag, a data file. Exit code 2. */
export class UserError extends PolypersonaError {
  readonly kind: 'user' | 'data' = 'user';
}

/** Input data that cannot be read: malformed file, wrong shapes, truncated weights. Exit code 2. */
export class DataError extends UserError {
  override readonly kind = 'data' as const;
}

/** A stage's run() failed (threw, or its command exited non-zero). Exit code 1. */
export class StageFailure extends PolypersonaError {
  readonly kind = 'stage' as const;
}

/**
 * An invariant of the program broke (a caller passed what the types allow but the function
 * cannot take, a graph was built inconsistently): a bug to report, not a user's mistake. Exit code 1.
 */
export class InternalError extends PolypersonaError {
  readonly kind = 'internal' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super('internal', message, options);
  }
}

/**
 * A thrown value as data, for the one place that reports it (the CLI). `unexpected` is anything
 * not ours (a library's or Node's own error).
 */
export type Failure =
  | { kind: 'user'; error: UserError }
  | { kind: 'data'; error: DataError }
  | { kind: 'stage'; error: StageFailure }
  | { kind: 'internal'; error: InternalError }
  | { kind: 'cancelled'; error: unknown }
  | { kind: 'unexpected'; error: unknown };

/** Classifies a thrown value; `cancelled` wins when the run was aborted (the abort reason is itself thrown). */
export function failureOf(error: unknown, cancelled = false): Failure {
  if (cancelled) return { kind: 'cancelled', error };
  if (!(error instanceof PolypersonaError)) return { kind: 'unexpected', error };
  switch (error.kind) {
    case 'user':
      return { kind: 'user', error: error as UserError };
    case 'data':
      return { kind: 'data', error: error as DataError };
    case 'stage':
      return { kind: 'stage', error: error as StageFailure };
    case 'internal':
      return { kind: 'internal', error: error as InternalError };
    default:
      return unreachable(error.kind);
  }
}

/** The compiler's exhaustiveness check: a switch's `default` that only a missed case reaches. */
export function unreachable(value: never): never {
  throw new InternalError(`unreachable: ${String(value)}`);
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  if (loc.line === undefined) return loc.file;
  return loc.column === undefined ? `${loc.file}:${loc.line}` : `${loc.file}:${loc.line}:${loc.column}`;
}
