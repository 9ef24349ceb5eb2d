import type { SourceLocation } from '../../core/errors.js';
import { formatPath, type PathSeg, type PipelineSource } from './source.js';
import { PipelineError, type PipelineIssue } from './types.js';

/**
 * Collects problems while a pipeline is checked, so that one load reports as many as it can.
 * The same message at the same place is kept once (matrix expansions repeat their base's errors).
 */
export class IssueList {
  private readonly issues: PipelineIssue[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly source: PipelineSource) {}

  /** Issues added so far, repeats included: compare before/after to learn whether a step found any. */
  get reported(): number {
    return this.count;
  }
  private count = 0;

  /**
   * Adds an issue at `path`. `key` points at the map key naming the path (unknown fields);
   * `offset` pins an exact text offset (an expression inside a string).
   */
  add(path: readonly PathSeg[], message: string, options: { key?: boolean; offset?: number } = {}): void {
    this.count++;
    const location: SourceLocation =
      options.offset !== undefined ? this.source.position(options.offset) : this.source.locate(path, { key: options.key });
    const issue = { location, path: formatPath(path), message };
    const id = `${location.line}:${location.column}:${issue.path}:${message}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.issues.push(issue);
  }

  /** Throws a PipelineError listing every issue, in file order, when there is any. */
  throwIfAny(): void {
    if (this.issues.length === 0) return;
    const sorted = [...this.issues].sort(
      (a, b) => (a.location.line ?? 0) - (b.location.line ?? 0) || (a.location.column ?? 0) - (b.location.column ?? 0),
    );
    throw new PipelineError(sorted);
  }
}
