/**
 * Masking `${{ ... }}` expressions before YAML parsing, and restoring them in parsed text.
 */
import type { SourceExpression } from './source-types.js';

/**
 * `${{ ... }}` on one line. Expressions are masked before YAML parsing: in a flow mapping
 * (`with: { seed: ${{ params.seed }} }`) `{` and `}` are indicators and a plain scalar cannot
 * hold them. Each expression becomes a placeholder of the SAME length — U+E000, the expression
 * index in base 36, U+E001 padding (private-use characters, valid in any YAML scalar, never in
 * real pipelines) — so every line/column the yaml package reports stays exact.
 */
const EXPRESSION = /\$\{\{([^\n]*?)\}\}/g;
export const PLACEHOLDER = /\uE000([0-9a-z]+)\uE001*/g;

export function maskExpressions(text: string): { masked: string; expressions: SourceExpression[] } {
  const expressions: SourceExpression[] = [];
  const masked = text.replace(EXPRESSION, (whole: string, inner: string, offset: number) => {
    const tag = expressions.length.toString(36);
    expressions.push({ text: whole, inner: inner.trim(), offset });
    // `${{}}` is 5 characters, so up to 36^4 expressions fit.
    return `\uE000${tag}`.padEnd(whole.length, '\uE001');
  });
  return { masked, expressions };
}

export function keyText(value: unknown, expressions: readonly SourceExpression[]): string {
  return restore(String(value ?? ''), expressions);
}

export function restore(masked: string, expressions: readonly SourceExpression[]): string {
  if (!masked.includes('\uE000')) return masked;
  return masked.replace(PLACEHOLDER, (_whole, tag: string) => expressions[parseInt(tag, 36)]?.text ?? _whole);
}
