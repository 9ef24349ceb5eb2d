import { substituteInShell } from './shell-words.js';
import { suggest } from './suggest.js';
import { InternalError } from '../../core/errors.js';

/**
 * The `${{ ... }}` expression language: four forms, no operators.
 *   params.NAME[.NAME...]   compile time: a pipeline param (nested maps allowed)
 *   matrix.AXIS             compile time: this expansion's value of a matrix axis
 *   stages.ID.outputs.dir   runtime: the published output directory of stage ID (implies a need)
 *   outputs.dir             runtime: this stage's own output directory
 * Compile-time forms are resolved by the loader; runtime forms stay in the strings (normalised)
 * until the scheduler knows the directories and calls resolveRuntimeExpressions.
 */
export type Expression =
  | { kind: 'param'; path: string[] }
  | { kind: 'matrix'; axis: string }
  | { kind: 'stage-output'; stage: string }
  | { kind: 'own-output' };

const NAME = '[A-Za-z_][A-Za-z0-9_-]*';
const PARAM = new RegExp(`^params((?:\\.${NAME})+)$`);
const MATRIX = new RegExp(`^matrix\\.(${NAME})$`);
const STAGE_OUTPUT = /^stages\.(.+)\.outputs\.dir$/;
const ROOTS = ['params', 'matrix', 'stages', 'outputs'];
const FORMS = 'params.NAME, matrix.AXIS, stages.ID.outputs.dir or outputs.dir';

/** Parses what is inside `${{ }}`; a string result is the error message. */
export function parseExpression(inner: string): Expression | string {
  const text = inner.trim();
  if (text === '') return 'empty expression (expected one of params.NAME, matrix.AXIS, stages.ID.outputs.dir, outputs.dir)';
  let m = PARAM.exec(text);
  if (m) return { kind: 'param', path: m[1]!.slice(1).split('.') };
  m = MATRIX.exec(text);
  if (m) return { kind: 'matrix', axis: m[1]! };
  m = STAGE_OUTPUT.exec(text);
  if (m) return { kind: 'stage-output', stage: m[1]! };
  if (text === 'outputs.dir') return { kind: 'own-output' };
  const root = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text)?.[0];
  if (root === undefined || !ROOTS.includes(root)) {
    const near = root === undefined ? undefined : suggest(root, ROOTS);
    return `unknown expression "${text}"${near ? ` (did you mean ${near}?)` : ''}; expressions are ${FORMS}`;
  }
  const expected: Record<string, string> = {
    params: 'params.NAME',
    matrix: 'matrix.AXIS',
    stages: 'stages.ID.outputs.dir',
    outputs: 'outputs.dir',
  };
  return `bad expression "${text}" (expected ${expected[root]}; expressions have no operators)`;
}

export function isRuntime(expr: Expression): boolean {
  return expr.kind === 'stage-output' || expr.kind === 'own-output';
}

/** The normalised text a runtime expression keeps in resolved params. */
export function runtimeText(expr: Expression & { kind: 'stage-output' | 'own-output' }): string {
  return expr.kind === 'own-output' ? '${{ outputs.dir }}' : `\${{ stages.${expr.stage}.outputs.dir }}`;
}

/** A value interpolated into a longer string: strings as is, anything else as JSON. */
export function interpolate(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const RUNTIME = /\$\{\{\s*(?:stages\.(.+?)\.outputs\.dir|outputs\.dir)\s*\}\}/g;

export interface RuntimeDirs {
  outputsDir: string;
  stageDirs: Record<string, string>;
  /**
   * Top-level params that are POSIX shell command lines (StageDefinition.shellParams, the
   * command stage's `run`): a directory substituted there is quoted for the shell
   * (shell-words.ts), so a folder name is never read as shell syntax.
   */
  shellParams?: readonly string[];
}

/**
 * Replaces the runtime expressions left in planned params — `${{ outputs.dir }}` and
 * `${{ stages.ID.outputs.dir }}` (ID an expanded id) — in every string of `value`, deeply.
 * Returns a new value; throws an Error for a stage id missing from `stageDirs` (a scheduler bug:
 * the loader has already checked every reference and made it a need).
 */
export function resolveRuntimeExpressions(value: unknown, ctx: RuntimeDirs): unknown {
  if (ctx.shellParams?.length && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = ctx.shellParams.includes(k) && typeof v === 'string' ? substituteInShell(v, RUNTIME, (m) => runtimeDir(m[1], ctx)) : resolveRuntimeExpressions(v, { ...ctx, shellParams: undefined });
    }
    return out;
  }
  if (typeof value === 'string') return value.replace(RUNTIME, (_whole, stage: string | undefined) => runtimeDir(stage, ctx));
  if (Array.isArray(value)) return value.map((v) => resolveRuntimeExpressions(v, ctx));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveRuntimeExpressions(v, ctx);
    return out;
  }
  return value;
}

function runtimeDir(stage: string | undefined, ctx: RuntimeDirs): string {
  if (stage === undefined) return ctx.outputsDir;
  const dir = Object.prototype.hasOwnProperty.call(ctx.stageDirs, stage) ? ctx.stageDirs[stage] : undefined;
  if (dir === undefined) throw new InternalError(`resolveRuntimeExpressions: no output directory for stage "${stage}"`);
  return dir;
}
