import { InternalError, UserError } from '../core/errors.js';
import type { StageDefinition } from './contract.js';

/** Stage types by name. The engine resolves `uses:` through a registry, never by import. */
export class StageRegistry {
  private readonly stages = new Map<string, StageDefinition>();

  register(definition: StageDefinition): this {
    if (!/^[a-z][a-z0-9-]*$/.test(definition.type)) {
      throw new InternalError(`stage type "${definition.type}" must be kebab-case`);
    }
    if (this.stages.has(definition.type)) throw new InternalError(`stage type "${definition.type}" is registered twice`);
    if (!Number.isInteger(definition.version) || definition.version < 1) {
      throw new InternalError(`stage type "${definition.type}" has a bad version ${definition.version}`);
    }
    this.stages.set(definition.type, definition);
    return this;
  }

  has(type: string): boolean {
    return this.stages.has(type);
  }

  /** Throws a UserError listing the known types (and a close match) when `type` is unknown. */
  get(type: string): StageDefinition {
    const found = this.stages.get(type);
    if (found) return found;
    const near = closest(type, [...this.stages.keys()]);
    throw new UserError(
      'unknown-stage-type',
      `unknown stage type "${type}"${near ? ` (did you mean "${near}"?)` : ''}; known types: ${[...this.stages.keys()].sort().join(', ')}`,
    );
  }

  list(): StageDefinition[] {
    return [...this.stages.values()].sort((a, b) => a.type.localeCompare(b.type));
  }
}

/** The candidate within edit distance 2 (or a third of the length), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

/** Levenshtein distance (insertions, deletions, substitutions each cost 1), one row of memory. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
