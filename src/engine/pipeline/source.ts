import type { Document, LineCounter, Node, Pair, YAMLMap } from 'yaml';
import type { SourceLocation } from '../../core/errors.js';
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
    const { masked, expressions } = maskExpressions(text);
    this.expressions = expressions;
    const doc = this.doc;
    if (doc.errors.length > 0) {
      throw new PipelineError(
        doc.errors.map((err): PipelineIssue => {
          const offset = err.pos[0];
          let message = `invalid YAML: ${err.message}`;
          if (err.code === 'DUPLICATE_KEY') {
            const key = restore(this.keyAt(offset) ?? masked.slice(err.pos[0], err.pos[1]), expressions);
            message = `duplicate key "${key}"${this.isStageKey(offset) ? ' (stage ids must be unique)' : ''}`;
          } else if (err.code === 'MULTIPLE_DOCS') {
            message = 'invalid YAML: the file holds several documents (a "---" line); a pipeline is one document';
          }
          return { location: this.position(offset), path: '', message };
        }),
      );
    }
    if (doc.contents === null) {
      throw new PipelineError([{ location: { file, line: 1, column: 1 }, path: '', message: 'the pipeline file is empty' }]);
    }
    this.value = this.toJs(doc.contents, []);
  }

  /** The YAML document of the masked text, parsed on first use. */
  private get doc(): Document {
    if (!this.parsed) {
      const { LineCounter, parseDocument } = yaml();
      this.lineCounter = new LineCounter();
      this.parsed = parseDocument(maskExpressions(this.text).masked, { lineCounter: this.lineCounter, prettyErrors: false, uniqueKeys: true });
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

  private isStageKey(offset: number): boolean {
    const root = this.doc.contents;
    if (!isMap(root)) return false;
    const stages = root.items.find((p) => isScalar(p.key) && p.key.value === 'stages');
    return isMap(stages?.value) && stages.value.items.some((p) => isScalar(p.key) && p.key.range?.[0] === offset);
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

  /** The text of the map key that starts at `offset`, if any. */
  private keyAt(offset: number): string | undefined {
    let text: string | undefined;
    const { visit } = yaml();
    visit(this.doc, {
      Pair: (_key, pair) => {
        if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
          text = String(pair.key.value);
          return visit.BREAK;
        }
        return undefined;
      },
    });
    return text;
  }

  private deref(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  /** Builds the JS value, restoring expression text and recording which strings hold expressions. */
  private toJs(raw: unknown, path: PathSeg[]): unknown {
    const node = this.deref(raw);
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyValue = isScalar(pair.key) ? pair.key.value : pair.key;
        const key = keyText(keyValue, this.expressions);
        if (typeof keyValue === 'string' && keyValue.includes('\uE000')) {
          this.keyExpressions.push({ path: [...path, key], expressions: [...keyValue.matchAll(PLACEHOLDER)].map((m) => parseInt(m[1]!, 36)) });
        }
        out[key] = this.toJs(pair.value, [...path, key]);
      }
      return out;
    }
    if (isSeq(node)) return node.items.map((item, i) => this.toJs(item, [...path, i]));
    if (isScalar(node)) {
      if (typeof node.value !== 'string') return node.value;
      const masked = node.value;
      const indexes = [...masked.matchAll(PLACEHOLDER)].map((m) => parseInt(m[1]!, 36));
      const value = restore(masked, this.expressions);
      if (indexes.length > 0) {
        const typed = node.type === 'PLAIN' && indexes.length === 1 && masked.trim() === masked.match(PLACEHOLDER)![0];
        this.expressionStrings.push({ path, expressions: indexes, typed });
      }
      if (masked.includes('${{') && node.range) {
        const at = this.text.indexOf('${{', node.range[0]);
        this.unterminated.push({ path, offset: at >= 0 && at < node.range[1] ? at : node.range[0] });
      }
      return value;
    }
    return null; // `key:` with nothing after it
  }
}

function keyText(value: unknown, expressions: readonly SourceExpression[]): string {
  return restore(String(value ?? ''), expressions);
}

function restore(masked: string, expressions: readonly SourceExpression[]): string {
  if (!masked.includes('\uE000')) return masked;
  return masked.replace(PLACEHOLDER, (_whole, tag: string) => expressions[parseInt(tag, 36)]?.text ?? _whole);
}
