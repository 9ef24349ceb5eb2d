/** Shapes shared by the pipeline source (source.ts) and its helpers: paths and expression bookkeeping. */

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

export function pathKey(path: readonly PathSeg[]): string {
  return JSON.stringify(path);
}

/** `stages.adapter.with.lora_alpha`, `stages.a.needs[1]`. */
export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}
