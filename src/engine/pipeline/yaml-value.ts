/**
 * Building a pipeline document's JS value from the yaml package's nodes, under the loader's
 * limits (limits.ts): depth through aliases, alias expansion, recursive aliases, core tags only,
 * finite and exact numbers, duplicate keys. Used by PipelineSource (source.ts).
 */
import type { Alias, Node, Scalar, YAMLMap } from 'yaml';
import type { SourceLocation } from '../../core/errors.js';
import { keyText, PLACEHOLDER, restore } from './expression-mask.js';
import { MAX_ALIAS_EXPANSION, MAX_NESTING_DEPTH } from './limits.js';
import { formatPath, type ExpressionString, type PathSeg, type SourceExpression } from './source-types.js';
import { PipelineError, type PipelineIssue } from './types.js';
import { isAlias, isMap, isPair, isScalar, isSeq } from './yaml.js';

/** What the builder needs of the source: its text, the lists it fills, positions and aliases. */
export interface ValueSource {
  readonly text: string;
  readonly expressions: SourceExpression[];
  readonly expressionStrings: ExpressionString[];
  readonly keyExpressions: Array<{ path: PathSeg[]; expressions: number[] }>;
  readonly unterminated: Array<{ path: PathSeg[]; offset: number }>;
  position(offset: number): SourceLocation;
  resolveAlias(alias: Alias): unknown;
}

/** Tags a pipeline may spell out (`!!str 12`); everything else (`!include`, `!!binary`, `!!set`) is refused. */
const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/**
 * Builds the document's JS value, restoring expression text and recording which strings hold
 * expressions (into the source's lists). Recursive, but never deeper than MAX_NESTING_DEPTH: the
 * text was checked before composing, and depth through aliases is counted here. Problems are
 * collected in `issues`; a limit that is hit (alias expansion, depth) stops the build at once.
 */
export class ValueBuilder {
  readonly issues: PipelineIssue[] = [];
  /** Values made by expanding aliases so far (MAX_ALIAS_EXPANSION). */
  private aliased = 0;
  /** Nodes being built right now: an alias to one of them is recursive. */
  private readonly building = new Set<unknown>();

  constructor(private readonly source: ValueSource) {}

  build(root: unknown): unknown {
    return this.toJs(root, [], 1, false);
  }

  private fail(node: unknown, path: readonly PathSeg[], message: string): void {
    const range = (node as Node | null)?.range;
    this.issues.push({ location: this.source.position(range ? range[0] : 0), path: formatPath(path), message });
  }

  /** Stops the build: `message` at `node`, with the issues found so far. */
  private stop(node: unknown, path: readonly PathSeg[], message: string): never {
    this.fail(node, path, message);
    throw new PipelineError(this.issues);
  }

  private toJs(raw: unknown, path: PathSeg[], depth: number, viaAlias: boolean): unknown {
    let node = raw;
    if (isAlias(node)) {
      const target = this.source.resolveAlias(node);
      if (target === undefined) {
        this.fail(node, path, `unknown alias *${node.source} (no anchor &${node.source} before it)`);
        return null;
      }
      if (this.building.has(target)) this.stop(node, path, `recursive alias *${node.source}: it stands inside its own anchor &${node.source}`);
      node = target;
      viaAlias = true;
    }
    if (viaAlias && ++this.aliased > MAX_ALIAS_EXPANSION) {
      this.stop(raw, path, `aliases expand to more than ${MAX_ALIAS_EXPANSION.toLocaleString('en-US')} values (the limit on alias expansion; a YAML alias bomb?)`);
    }
    const tag = (node as { tag?: string } | null)?.tag;
    if (tag !== undefined && !CORE_TAGS.has(tag)) {
      this.fail(node, path, `the tag ${tag.replace('tag:yaml.org,2002:', '!!')} is not supported; a pipeline takes plain strings, numbers, booleans, lists and maps`);
      return null;
    }
    if (isMap(node) || isSeq(node)) {
      if (depth > MAX_NESTING_DEPTH) this.stop(raw, path, nestingMessage());
      this.building.add(node);
      try {
        return isMap(node) ? this.mapToJs(node, path, depth, viaAlias) : node.items.map((item, i) => this.toJs(item, [...path, i], depth + 1, viaAlias));
      } finally {
        this.building.delete(node);
      }
    }
    if (isScalar(node)) return this.scalarToJs(node, path);
    return null; // `key:` with nothing after it
  }

  private mapToJs(node: YAMLMap, path: PathSeg[], depth: number, viaAlias: boolean): Record<string, unknown> {
    const { expressions, keyExpressions } = this.source;
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      if (pair.key !== null && !isScalar(pair.key)) {
        this.fail(pair.key, path, 'a map key must be a plain string, not a list, map or alias');
        continue;
      }
      const keyValue = isScalar(pair.key) ? pair.key.value : pair.key;
      const key = keyText(keyValue, expressions);
      if (seen.has(key)) {
        // An alias repeats its anchor's keys only once per map: this is in the text itself.
        const stage = path.length === 1 && path[0] === 'stages' ? ' (stage ids must be unique)' : '';
        this.fail(pair.key, [], `duplicate key "${key}"${stage}`);
        continue;
      }
      seen.add(key);
      if (typeof keyValue === 'string' && keyValue.includes('\uE000')) {
        keyExpressions.push({ path: [...path, key], expressions: [...keyValue.matchAll(PLACEHOLDER)].map((m) => parseInt(m[1]!, 36)) });
      }
      const value = this.toJs(pair.value, [...path, key], depth + 1, viaAlias);
      // Assigning `__proto__` would set the object's prototype instead of adding a field.
      if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
    }
    return out;
  }

  private scalarToJs(node: Scalar, path: PathSeg[]): unknown {
    const { expressions, expressionStrings, unterminated, text } = this.source;
    if (typeof node.value === 'number') {
      if (!Number.isFinite(node.value)) {
        this.fail(node, path, `${String(node.source ?? node.value)} is not a number a pipeline can hold (no .inf or .nan: stage keys are canonical JSON)`);
        return null;
      }
      if (Number.isInteger(node.value) && !Number.isSafeInteger(node.value)) {
        this.fail(node, path, `the number ${String(node.source ?? node.value)} is too large to be exact (integers must lie within ±${Number.MAX_SAFE_INTEGER}); quote it if it is text`);
        return null;
      }
    }
    if (typeof node.value !== 'string') return node.value;
    const masked = node.value;
    const indexes = [...masked.matchAll(PLACEHOLDER)].map((m) => parseInt(m[1]!, 36));
    const value = restore(masked, expressions);
    if (indexes.length > 0) {
      const typed = node.type === 'PLAIN' && indexes.length === 1 && masked.trim() === masked.match(PLACEHOLDER)![0];
      expressionStrings.push({ path, expressions: indexes, typed });
    }
    if (masked.includes('${{') && node.range) {
      const at = text.indexOf('${{', node.range[0]);
      unterminated.push({ path, offset: at >= 0 && at < node.range[1] ? at : node.range[0] });
    }
    return value;
  }
}

export function nestingMessage(): string {
  return `maps and lists nest more than ${MAX_NESTING_DEPTH} levels deep (the limit on nesting depth)`;
}

/**
 * Offset of the first collection nested deeper than `max` in the yaml package's concrete syntax
 * tree (documents of block maps, block sequences and flow collections), or undefined. Walked with
 * an explicit stack: the tree being checked may be deep enough to overflow a recursive walk.
 */
export function tooDeepAt(tokens: readonly unknown[], max: number): number | undefined {
  const stack: Array<[unknown, number]> = tokens.map((t) => [t, 0]);
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!;
    if (token === null || typeof token !== 'object') continue;
    const t = token as { type?: string; offset?: number; value?: unknown; items?: Array<{ key?: unknown; value?: unknown }> };
    if (t.type === 'document') stack.push([t.value, depth]);
    else if (t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection') {
      if (depth + 1 > max) return t.offset ?? 0;
      for (const item of t.items ?? []) {
        stack.push([item.key, depth + 1]);
        stack.push([item.value, depth + 1]);
      }
    }
  }
  return undefined;
}
