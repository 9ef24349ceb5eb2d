/**
 * Typed errors shared by every layer. Library code throws these; only `src/cli` turns them
 * into one-paragraph messages and exit codes. `code` is stable and machine-readable.
 *
 * Exit codes (CLI): UserError subclasses -> 2 (usage / validation), StageFailure -> 1.
 */
export class PolypersonaError extends Error {
  readonly code: string;
  /** Where the problem is, when known: a file, optionally with 1-based line/column. */
  readonly location?: SourceLocation;
  constructor(code: string, message: string, options?: { cause?: unknown; location?: SourceLocation }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.location = options?.location;
  }
}

export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

/** A mistake in something the user wrote or passed: a pipeline, a flag, a data file. Exit code 2. */
export class UserError extends PolypersonaError {}

/** A stage's run() failed (threw, or its command exited non-zero). Exit code 1. */
export class StageFailure extends PolypersonaError {}

/** Input data that cannot be read: malformed file, wrong shapes, truncated weights. */
export class DataError extends UserError {}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  if (loc.line === undefined) return loc.file;
  return loc.column === undefined ? `${loc.file}:${loc.line}` : `${loc.file}:${loc.line}:${loc.column}`;
}
