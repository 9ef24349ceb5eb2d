import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { SourceLocation } from '../../core/errors.js';
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

/** A parsed pipeline file: its JS value and the means to point back into its text. */
export class PipelineSource {
  readonly value: unknown;
  readonly expressions: SourceExpression[];
  readonly expressionStrings: ExpressionString[] = [];
  /** Expressions written inside map keys (never allowed): the map's path and the key text. */
  readonly keyExpressions: Array<{ path: PathSeg[]; expressions: number[] }> = [];
  /** Offsets of `${{` without a closing `}}` on the same line, inside string values. */
  readonly unterminated: Array<{ path: PathSeg[]; offset: number }> = [];
  private readonly lineCounter = new LineCounter();
  private readonly doc: Document;
  private readonly pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

  /** Throws a PipelineError with every YAML syntax error (duplicate keys included). */
  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    const { masked, expressions } = maskExpressions(text);
    this.expressions = expressions;
    this.doc = parseDocument(masked, { lineCounter: this.lineCounter, prettyErrors: false, uniqueKeys: true });
    if (this.doc.errors.length > 0) {
      throw new PipelineError(
        this.doc.errors.map((err): PipelineIssue => {
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
    if (this.doc.contents === null) {
      throw new PipelineError([{ location: { file, line: 1, column: 1 }, path: '', message: 'the pipeline file is empty' }]);
    }
    this.value = this.toJs(this.doc.contents, []);
  }

  /** file:line:column of a text offset (1-based). */
  position(offset: number): SourceLocation {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, column: col };
  }

  /**
   * Where `path` is written: the value's node, or with `key` the map key that names it. A path
   * that does not exist in the text (a missing field) points at its deepest existing ancestor.
   */
  locate(path: readonly PathSeg[], options: { key?: boolean } = {}): SourceLocation {
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
