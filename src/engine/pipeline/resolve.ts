import { suggest } from './suggest.js';
import { interpolate, isRuntime, parseExpression, runtimeText, type Expression } from './expressions.js';
import type { IssueList } from './issues.js';
import { formatPath, pathKey, type ExpressionString, type PathSeg, type PipelineSource } from './source.js';
import type { MatrixCombo } from './types.js';
import { unreachable } from '../../core/errors.js';

/** Where each expression form may appear: the stage field (path[2]) -> allowed kinds. */
const ALLOWED: Record<string, ReadonlyArray<Expression['kind']>> = {
  with: ['param', 'matrix', 'stage-output', 'own-output'],
  run: ['param', 'matrix', 'stage-output', 'own-output'],
  env: ['param', 'matrix', 'stage-output', 'own-output'],
  deps: ['param', 'matrix'],
  outs: ['param', 'matrix'],
  description: ['param', 'matrix'],
  matrix: ['param'],
  executor: ['param', 'matrix'],
};

/**
 * Reports expressions that cannot be parsed or stand where their kind is not allowed (runtime
 * directories in `deps`, anything in `needs`, `uses` or the top-level `params`). Returns the
 * indexes of the expressions reported, which resolution then leaves alone.
 */
export function checkExpressionPlacement(source: PipelineSource, issues: IssueList): Set<number> {
  const bad = new Set<number>();
  for (const str of source.expressionStrings) {
    // The pipeline-wide `executor:` takes params like a stage's does.
    const field = str.path[0] === 'stages' && str.path.length >= 3 ? String(str.path[2]) : str.path[0] === 'executor' ? 'executor' : undefined;
    const allowed = field === undefined ? undefined : ALLOWED[field];
    for (const index of str.expressions) {
      const expr = source.expressions[index]!;
      const parsed = parseExpression(expr.inner);
      let message: string | undefined;
      if (typeof parsed === 'string') message = parsed;
      else if (!allowed) message = `expressions are not allowed in ${formatPath(str.path.slice(0, field === undefined ? 1 : 3))} (only in the pipeline's executor and in a stage's with, run, env, deps, outs, description, matrix and executor)`;
      else if (!allowed.includes(parsed.kind)) {
        message = isRuntime(parsed)
          ? `${expr.text} is known only when the stage runs; it may stand in with, run and env, not in ${field}`
          : `${expr.text} is not allowed in ${field} (only params.NAME)`;
      }
      if (message !== undefined) {
        bad.add(index);
        issues.add(str.path, message, { offset: expr.offset });
      }
    }
  }
  for (const k of source.keyExpressions) {
    for (const index of k.expressions) {
      bad.add(index);
      issues.add(k.path, `expressions are not allowed in keys (${source.expressions[index]!.text})`, { offset: source.expressions[index]!.offset });
    }
  }
  for (const u of source.unterminated) issues.add(u.path, 'unterminated expression: "${{" without "}}" on the same line', { offset: u.offset });
  return bad;
}

export interface ResolveScope {
  params: Record<string, unknown>;
  /** This expansion's matrix values; undefined for a stage without a matrix. */
  combo?: MatrixCombo;
  /** Maps a `stages.ID` reference to the one expanded id it denotes, or returns an error message. */
  stageOutput(ref: string): { id: string } | { error: string };
  /** Expanded ids named by runtime expressions, in first-mention order (filled by resolution). */
  implied: string[];
}

/**
 * Resolves compile-time expressions in a value read from the pipeline at `path`; runtime ones
 * are normalised and left in the strings. A plain scalar that is exactly one expression takes
 * the value itself (`seed: ${{ params.seed }}` -> 7); otherwise values are interpolated.
 * Problems are added to `issues` at the expression's exact position.
 */
export class ExpressionResolver {
  private readonly byPath: Map<string, ExpressionString>;

  constructor(
    private readonly source: PipelineSource,
    private readonly issues: IssueList,
    private readonly skip: ReadonlySet<number>,
  ) {
    this.byPath = new Map(source.expressionStrings.map((s) => [pathKey(s.path), s]));
  }

  resolve(value: unknown, path: PathSeg[], scope: ResolveScope): unknown {
    if (typeof value === 'string') return this.resolveString(value, path, scope);
    if (Array.isArray(value)) return value.map((v, i) => this.resolve(v, [...path, i], scope));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.resolve(v, [...path, k], scope);
      return out;
    }
    return value;
  }

  private resolveString(value: string, path: PathSeg[], scope: ResolveScope): unknown {
    const str = this.byPath.get(pathKey(path));
    if (!str) return value;
    let out = '';
    let cursor = 0;
    for (const index of str.expressions) {
      const expr = this.source.expressions[index]!;
      const at = value.indexOf(expr.text, cursor);
      if (at < 0) return value; // cannot happen: the string was restored from these expressions
      out += value.slice(cursor, at);
      cursor = at + expr.text.length;
      const parsed = parseExpression(expr.inner);
      if (this.skip.has(index) || typeof parsed === 'string') {
        out += expr.text;
        continue;
      }
      const resolved = this.evaluate(parsed, scope, (message) => this.issues.add(path, message, { offset: expr.offset }));
      if (resolved === undefined) {
        out += expr.text;
        continue;
      }
      if (str.typed && !isRuntime(parsed)) return resolved.value;
      out += resolved.text;
    }
    return out + value.slice(cursor);
  }

  private evaluate(expr: Expression, scope: ResolveScope, fail: (message: string) => void): { value: unknown; text: string } | undefined {
    switch (expr.kind) {
      case 'param': {
        let current: unknown = scope.params;
        for (let i = 0; i < expr.path.length; i++) {
          const name = expr.path[i]!;
          const where = ['params', ...expr.path.slice(0, i)].join('.');
          if (current === null || typeof current !== 'object' || Array.isArray(current)) {
            fail(`${where} is not a map, so it has no field "${name}"`);
            return undefined;
          }
          const map = current as Record<string, unknown>;
          if (!Object.prototype.hasOwnProperty.call(map, name)) {
            const near = suggest(name, Object.keys(map));
            fail(`unknown param "${[...expr.path.slice(0, i), name].join('.')}"${near ? ` (did you mean ${near}?)` : ''}; ${where} defines ${Object.keys(map).sort().join(', ') || 'nothing'}`);
            return undefined;
          }
          current = map[name];
        }
        return { value: current, text: interpolate(current) };
      }
      case 'matrix': {
        if (!scope.combo) {
          fail(`matrix.${expr.axis} is used in a stage without a matrix`);
          return undefined;
        }
        if (!(expr.axis in scope.combo)) {
          const axes = Object.keys(scope.combo);
          const near = suggest(expr.axis, axes);
          fail(`unknown matrix axis "${expr.axis}"${near ? ` (did you mean ${near}?)` : ''}; axes: ${axes.sort().join(', ')}`);
          return undefined;
        }
        const value = scope.combo[expr.axis];
        return { value, text: interpolate(value) };
      }
      case 'stage-output': {
        const target = scope.stageOutput(expr.stage);
        if ('error' in target) {
          fail(target.error);
          return undefined;
        }
        if (!scope.implied.includes(target.id)) scope.implied.push(target.id);
        const text = runtimeText({ kind: 'stage-output', stage: target.id });
        return { value: text, text };
      }
      case 'own-output': {
        const text = runtimeText(expr);
        return { value: text, text };
      }
      default: {
        return unreachable(expr);
      }
    }
  }
}
