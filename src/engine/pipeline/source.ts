import type { Alias, Document, LineCounter, Node, Pair, Scalar, YAMLMap } from 'yaml';
import type { SourceLocation } from '../../core/errors.js';
import { formatBytes, readTextFile } from '../../core/files.js';
import { MAX_ALIAS_EXPANSION, MAX_NESTING_DEPTH, MAX_PIPELINE_BYTES } from './limits.js';
import { isAlias, isMap, isPair, isScalar, isSeq, yaml } from './yaml.js';
import { PipelineError, type PipelineIssue } from './types.js';

/** A path into the pipeline document: map keys and sequence indexes. */
export type PathSeg = string | number;

/** One `${{ ... }}` occurrence in the pipeline text. */
export interface SourceExpression {
  /** The whole `${{ ... }}` text as written. */
  text: string;
  /** What is between the braces, trimmed. */
  inner: string;
  /** Offset of `$` in the file text (UTF-16 code units, as the yaml package counts). */
  offset: number;
}

/** A string value of the document that contains expressions. */
export interface ExpressionString {
  path: PathSeg[];
  /** Indexes into PipelineSource.expressions, in order of appearance in the string. */
  expressions: number[];
  /** A plain (unquoted) scalar that is exactly one expression: its resolved value keeps its type. */
  typed: boolean;
}

/**
 * `${{ ... }}` on one line. Expressions are masked before YAML parsing: in a flow mapping
 * (`with: { seed: ${{ params.seed }} }`) `{` and `}` are indicators and a plain scalar cannot
 * hold them. Each expression becomes a placeholder of the SAME length — U+E000, the expression
 * index in base 36, U+E001 padding (private-use characters, valid in any YAML scalar, never in
 * real pipelines) — so every line/column the yaml package reports stays exact.
 */
const EXPRESSION = /\$\{\{([^\n]*?)\}\}/g;
const PLACEHOLDER = /\uE000([0-9a-z]+)\uE001*/g;

function maskExpressions(text: string): { masked: string; expressions: SourceExpression[] } {
  const expressions: SourceExpression[] = [];
  const masked = text.replace(EXPRESSION, (whole: string, inner: string, offset: number) => {
    const tag = expressions.length.toString(36);
    expressions.push({ text: whole, inner: inner.trim(), offset });
    // `${{}}` is 5 characters, so up to 36^4 expressions fit.
    return `\uE000${tag}`.padEnd(whole.length, '\uE001');
  });
  return { masked, expressions };
}

export function pathKey(path: readonly PathSeg[]): string {
  return JSON.stringify(path);
}

/** `stages.adapter.with.lora_alpha`, `stages.a.needs[1]`. */
export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

/**
 * What a parse leaves that later steps use, as plain JSON: the document's JS value, the
 * expression bookkeeping and where each stage key is written. A parse cache (parse-cache.ts)
 * stores it, so an unchanged pipeline is not parsed again; the YAML document itself (needed only
 * to point at a problem) is then built on first use.
 */
export interface SourceSnapshot {
  value: unknown;
  expressions: SourceExpression[];
  expressionStrings: ExpressionString[];
  keyExpressions: Array<{ path: PathSeg[]; expressions: number[] }>;
  unterminated: Array<{ path: PathSeg[]; offset: number }>;
  /** Stage id -> [line, column] of its key under `stages:` (PlannedStage.location). */
  stageKeys: Record<string, [number, number]>;
}

/** A parsed pipeline file: its JS value and the means to point back into its text. */
export class PipelineSource {
  readonly value: unknown;
  readonly expressions: SourceExpression[];
  readonly expressionStrings: ExpressionString[] = [];
  /** Expressions written inside map keys (never allowed): the map's path and the key text. */
  readonly keyExpressions: Array<{ path: PathSeg[]; expressions: number[] }> = [];
  /** Offsets of `${{` without a closing `}}` on the same line, inside string values. */
  readonly unterminated: Array<{ path: PathSeg[]; offset: number }> = [];
  private lineCounter: LineCounter | undefined;
  private parsed: Document | undefined;
  private readonly pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();
  private aliasTargets: Map<Alias, unknown> | undefined;
  /** From a snapshot: stage key positions known without parsing. */
  private readonly stageKeys: Record<string, [number, number]> | undefined;

  /**
   * Throws a PipelineError with every YAML syntax error (duplicate keys included). With a
   * `snapshot` of this very text (from snapshot() on an earlier parse that had no YAML errors)
   * nothing is parsed until a position is asked for.
   */
  constructor(
    readonly file: string,
    readonly text: string,
    snapshot?: SourceSnapshot,
  ) {
    if (snapshot) {
      this.value = snapshot.value;
      this.expressions = snapshot.expressions;
      this.expressionStrings = snapshot.expressionStrings;
      this.keyExpressions = snapshot.keyExpressions;
      this.unterminated = snapshot.unterminated;
      this.stageKeys = snapshot.stageKeys;
      return;
    }
    if (Buffer.byteLength(text, 'utf8') > MAX_PIPELINE_BYTES) {
      throw new PipelineError([{ location: { file }, path: '', message: `the pipeline is larger than the limit of ${formatBytes(MAX_PIPELINE_BYTES)}` }]);
    }
    this.expressions = maskExpressions(text).expressions;
    const doc = this.doc;
    // Warnings are errors too: an unsupported `%YAML 9.9`, an unresolved tag such as `!include`
    // (the yaml package would keep the text and drop the tag: `run: !include x.yaml` would run
    // `x.yaml`), an ambiguous alias. A pipeline is plain YAML; nothing in it may be guessed at.
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      throw new PipelineError(
        problems.map((err): PipelineIssue => {
          const offset = err.pos[0];
          let message = `invalid YAML: ${err.message}`;
          if (err.code === 'MULTIPLE_DOCS') {
            message = 'invalid YAML: the file holds several documents (a "---" line); a pipeline is one document';
          } else if (err.code === 'TAG_RESOLVE_FAILED') {
            message = `invalid YAML: ${err.message}; a pipeline takes no custom tags (no !include: list files in deps, or use params)`;
          }
          return { location: this.position(offset), path: '', message };
        }),
      );
    }
    if (doc.contents === null) {
      throw new PipelineError([{ location: { file, line: 1, column: 1 }, path: '', message: 'the pipeline file is empty' }]);
    }
    const builder = new ValueBuilder(this);
    this.value = builder.build(doc.contents);
    if (builder.issues.length > 0) throw new PipelineError(builder.issues);
  }

  /** Reads a pipeline file within the limits (limits.ts); a DataError names the file otherwise. */
  static readText(file: string): string {
    return readTextFile(file, 'pipeline file', { maxBytes: MAX_PIPELINE_BYTES });
  }

  /**
   * The YAML document of the masked text, parsed on first use: the yaml package's
   * parseDocument, done in its two steps so that the concrete syntax tree (built without
   * recursion) is checked for nesting depth before the composer (which recurses) sees it.
   * Duplicate keys are found while building the value (uniqueKeys in the yaml package compares
   * every key of a map with every other: quadratic, seconds for 10,000 stages).
   */
  private get doc(): Document {
    if (!this.parsed) {
      const { Composer, LineCounter, Parser } = yaml();
      const masked = maskExpressions(this.text).masked;
      this.lineCounter = new LineCounter();
      const tokens = [...new Parser(this.lineCounter.addNewLine).parse(masked)];
      const deep = tooDeepAt(tokens, MAX_NESTING_DEPTH);
      if (deep !== undefined) {
        const { line, col } = this.lineCounter.linePos(deep);
        throw new PipelineError([{ location: { file: this.file, line, column: col }, path: '', message: nestingMessage() }]);
      }
      const composer = new Composer({ uniqueKeys: false, prettyErrors: false });
      let first: Document | undefined;
      for (const doc of composer.compose(tokens, true, masked.length)) {
        if (!first) first = doc as Document;
        else {
          first.errors.push(new (yaml().YAMLParseError)([doc.range[0], doc.range[1]], 'MULTIPLE_DOCS', 'several documents'));
          break;
        }
      }
      this.parsed = first!;
    }
    return this.parsed;
  }

  /** The parse's results as plain JSON (see SourceSnapshot). */
  snapshot(): SourceSnapshot {
    const stageKeys: Record<string, [number, number]> = {};
    const stages = (this.value as { stages?: unknown } | null)?.stages;
    if (stages !== null && typeof stages === 'object' && !Array.isArray(stages)) {
      for (const id of Object.keys(stages)) {
        const { line, column } = this.locate(['stages', id], { key: true });
        stageKeys[id] = [line ?? 1, column ?? 1];
      }
    }
    return {
      value: this.value,
      expressions: this.expressions,
      expressionStrings: this.expressionStrings,
      keyExpressions: this.keyExpressions,
      unterminated: this.unterminated,
      stageKeys,
    };
  }

  /** file:line:column of a text offset (1-based). */
  position(offset: number): SourceLocation {
    void this.doc; // fills lineCounter
    const { line, col } = this.lineCounter!.linePos(offset);
    return { file: this.file, line, column: col };
  }

  /**
   * Where `path` is written: the value's node, or with `key` the map key that names it. A path
   * that does not exist in the text (a missing field) points at its deepest existing ancestor.
   */
  locate(path: readonly PathSeg[], options: { key?: boolean } = {}): SourceLocation {
    if (options.key && path.length === 2 && path[0] === 'stages' && this.stageKeys && Object.prototype.hasOwnProperty.call(this.stageKeys, path[1]!)) {
      const [line, column] = this.stageKeys[path[1]!]!;
      return { file: this.file, line, column };
    }
    let node: unknown = this.doc.contents;
    let keyNode: unknown;
    let found = 0;
    for (const seg of path) {
      node = this.deref(node);
      let next: unknown;
      let nextKey: unknown;
      if (isMap(node)) {
        const pair = this.pairsOf(node).get(String(seg));
        if (pair) {
          nextKey = pair.key;
          next = pair.value ?? pair.key;
        }
      } else if (isSeq(node) && typeof seg === 'number') {
        next = node.items[seg];
      }
      if (next === undefined) break;
      node = next;
      keyNode = nextKey;
      found++;
    }
    const target = (options.key || found < path.length) && keyNode ? keyNode : node;
    const range = (target as Node | null)?.range ?? (keyNode as Node | undefined)?.range;
    return this.position(range ? range[0] : 0);
  }

  /** A map's pairs by key text; built once per map, so locating 1,000 stages stays linear. */
  private pairsOf(map: YAMLMap): Map<string, Pair> {
    let pairs = this.pairIndex.get(map);
    if (!pairs) {
      pairs = new Map();
      for (const p of map.items) if (isScalar(p.key) && !pairs.has(keyText(p.key.value, this.expressions))) pairs.set(keyText(p.key.value, this.expressions), p);
      this.pairIndex.set(map, pairs);
    }
    return pairs;
  }

  private deref(node: unknown): unknown {
    return isAlias(node) ? this.resolveAlias(node) : node;
  }

  /**
   * For the value builder: the alias's target node (the last anchor of its name before it), or
   * undefined for an unknown anchor. The yaml package's Alias.resolve walks the whole document
   * on every call; one walk here maps every alias at once.
   */
  resolveAlias(alias: Alias): unknown {
    if (!this.aliasTargets) {
      const targets = new Map<Alias, unknown>();
      const anchors = new Map<string, unknown>();
      const { visit } = yaml();
      visit(this.doc, {
        Node: (_key, node) => {
          if (isAlias(node)) targets.set(node, anchors.get(node.source));
          else if (node.anchor) anchors.set(node.anchor, node);
        },
      });
      this.aliasTargets = targets;
    }
    return this.aliasTargets.get(alias);
  }
}

/** Tags a pipeline may spell out (`!!str 12`); everything else (`!include`, `!!binary`, `!!set`) is refused. */
const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/**
 * Builds the document's JS value, restoring expression text and recording which strings hold
 * expressions (into the source's lists). Recursive, but never deeper than MAX_NESTING_DEPTH: the
 * text was checked before composing, and depth through aliases is counted here. Problems are
 * collected in `issues`; a limit that is hit (alias expansion, depth) stops the build at once.
 */
class ValueBuilder {
  readonly issues: PipelineIssue[] = [];
  /** Values made by expanding aliases so far (MAX_ALIAS_EXPANSION). */
  private aliased = 0;
  /** Nodes being built right now: an alias to one of them is recursive. */
  private readonly building = new Set<unknown>();

  constructor(private readonly source: PipelineSource) {}

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

function nestingMessage(): string {
  return `maps and lists nest more than ${MAX_NESTING_DEPTH} levels deep (the limit on nesting depth)`;
}

/**
 * Offset of the first collection nested deeper than `max` in the yaml package's concrete syntax
 * tree (documents of block maps, block sequences and flow collections), or undefined. Walked with
 * an explicit stack: the tree being checked may be deep enough to overflow a recursive walk.
 */
function tooDeepAt(tokens: readonly unknown[], max: number): number | undefined {
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

function keyText(value: unknown, expressions: readonly SourceExpression[]): string {
  return restore(String(value ?? ''), expressions);
}

function restore(masked: string, expressions: readonly SourceExpression[]): string {
  if (!masked.includes('\uE000')) return masked;
  return masked.replace(PLACEHOLDER, (_whole, tag: string) => expressions[parseInt(tag, 36)]?.text ?? _whole);
}
