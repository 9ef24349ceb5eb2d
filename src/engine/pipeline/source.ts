import type { Alias, Document, LineCounter, Node, Pair, YAMLMap } from 'yaml';
import type { SourceLocation } from '../../core/errors.js';
import { formatBytes, readTextFile } from '../../core/files.js';
import { keyText, maskExpressions } from './expression-mask.js';
import { MAX_NESTING_DEPTH, MAX_PIPELINE_BYTES } from './limits.js';
import type { ExpressionString, PathSeg, SourceExpression } from './source-types.js';
import { isAlias, isMap, isScalar, isSeq, yaml } from './yaml.js';
import { nestingMessage, tooDeepAt, ValueBuilder } from './yaml-value.js';
import { PipelineError, type PipelineIssue } from './types.js';

export { formatPath, pathKey, type ExpressionString, type PathSeg, type SourceExpression } from './source-types.js';

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

