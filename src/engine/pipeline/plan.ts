import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import type { StageDefinition } from '../contract.js';
import { validateStageParams } from '../params.js';
import type { StageRegistry } from '../registry.js';
import { suggest } from './suggest.js';
import type { IssueList } from './issues.js';
import { expandedId, expandMatrix, pairExpansions, type MatrixSpec, type Scalar } from './matrix.js';
import type { ParamsMemo } from './params-memo.js';
import type { ExpressionResolver, ResolveScope } from './resolve.js';
import { describeValue, pointerToPath, propertyNamesAt, unknownField } from './schema.js';
import type { PathSeg, PipelineSource } from './source.js';
import type { MatrixCombo, PlannedStage } from './types.js';
import { mergeExecutorSettings, parseExecutorFields, type ExecutorFields } from '../executors/settings.js';

/** A stage as declared in YAML, before expansion. `definition` is unset when its type is unknown. */
export interface DeclaredStage {
  id: string;
  raw: Record<string, unknown>;
  type?: string;
  definition?: StageDefinition;
  /** Matrix combinations; undefined for a stage without a matrix (or with a broken one). */
  combos?: MatrixCombo[];
  /** False when the stage is too broken to plan (schema errors, bad matrix); its id still exists. */
  plannable: boolean;
}

const COMMAND_FIELDS = ['run', 'deps', 'outs', 'env'] as const;

export interface PlanContext {
  source: PipelineSource;
  issues: IssueList;
  resolver: ExpressionResolver;
  registry: StageRegistry;
  params: Record<string, unknown>;
  pipelineDir: string;
  /** Answers params validation from an earlier load of the same text when it can (params-memo.ts). */
  paramsMemo?: ParamsMemo;
  /** The pipeline-wide `executor:` fields, when given and valid. */
  executor?: ExecutorFields;
}

/** Type, definition and matrix of each stage; problems go to ctx.issues. */
export function declareStages(stages: Record<string, unknown>, broken: ReadonlySet<string>, ctx: PlanContext): DeclaredStage[] {
  return Object.entries(stages).map(([id, value]) => {
    const raw = (value ?? {}) as Record<string, unknown>;
    if (broken.has(id) || typeof value !== 'object' || value === null) return { id, raw, plannable: false };
    const at = ['stages', id];
    const declared: DeclaredStage = { id, raw, plannable: true };
    const type = typeof raw.uses === 'string' ? raw.uses : raw.run !== undefined ? 'command' : undefined;
    if (type === undefined) {
      ctx.issues.add(at, 'a stage needs "uses:" (a stage type) or "run:" (a shell command)', { key: true });
      declared.plannable = false;
    } else {
      declared.type = type;
      if (ctx.registry.has(type)) declared.definition = ctx.registry.get(type);
      else {
        ctx.issues.add([...at, 'uses'], unknownTypeMessage(type, ctx.registry));
        declared.plannable = false;
      }
      for (const field of COMMAND_FIELDS) {
        if (type !== 'command' && raw[field] !== undefined) {
          ctx.issues.add([...at, field], `only command stages take "${field}" (this stage uses ${type})`, { key: true });
        }
      }
      if (type === 'command' && raw.with !== undefined) {
        ctx.issues.add([...at, 'with'], 'a command stage takes run, deps, outs and env, not with', { key: true });
      }
    }
    if (raw.matrix !== undefined) {
      const combos = declareMatrix(raw.matrix as Record<string, unknown>, [...at, 'matrix'], ctx);
      if (combos) declared.combos = combos;
      else declared.plannable = false;
    }
    return declared;
  });
}

function unknownTypeMessage(type: string, registry: StageRegistry): string {
  try {
    registry.get(type);
    return `unknown stage type "${type}"`;
  } catch (err) {
    if (err instanceof UserError) return err.message;
    throw err;
  }
}

function declareMatrix(raw: Record<string, unknown>, at: PathSeg[], ctx: PlanContext): MatrixCombo[] | undefined {
  const resolved = ctx.resolver.resolve(raw, at, { params: ctx.params, stageOutput: () => ({ error: 'unreachable' }), implied: [] }) as Record<string, unknown>;
  const spec: MatrixSpec = { axes: {}, include: (resolved.include as MatrixCombo[]) ?? [], exclude: (resolved.exclude as MatrixCombo[]) ?? [] };
  let ok = true;
  for (const [axis, values] of Object.entries(resolved)) {
    if (axis === 'include' || axis === 'exclude') continue;
    const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
    if (!Array.isArray(values) || values.length === 0 || !values.every(isScalar)) {
      ctx.issues.add([...at, axis], `a matrix axis must be a non-empty list of strings, numbers or booleans (got ${describeValue(values)})`);
      ok = false;
      continue;
    }
    const odd = values.find((v) => /[,[\]]/.test(String(v)));
    if (odd !== undefined) {
      ctx.issues.add([...at, axis], `matrix value "${String(odd)}" contains ",", "[" or "]", which would make expanded ids ambiguous`);
      ok = false;
      continue;
    }
    spec.axes[axis] = values;
  }
  if (!ok) return undefined;
  const combos = expandMatrix(spec);
  if (typeof combos === 'string') {
    ctx.issues.add(at, combos);
    return undefined;
  }
  const odd = combos.flatMap((c) => Object.values(c)).find((v) => /[,[\]]/.test(String(v)));
  if (odd !== undefined) {
    ctx.issues.add([...at, 'include'], `matrix value "${String(odd)}" contains ",", "[" or "]", which would make expanded ids ambiguous`);
    return undefined;
  }
  return combos;
}

/** One expansion planned; undefined when it has problems (reported to ctx.issues). */
export function planExpansion(declared: DeclaredStage, combo: MatrixCombo | undefined, all: ReadonlyMap<string, DeclaredStage>, ctx: PlanContext): PlannedStage | undefined {
  const { id: baseId, raw } = declared;
  const definition = declared.definition!;
  const id = expandedId(baseId, combo);
  const at = ['stages', baseId];
  const errorsBefore = ctx.issues.reported;
  const scope: ResolveScope = {
    params: ctx.params,
    combo,
    implied: [],
    stageOutput: (ref) => {
      const target = lookupStage(ref, combo, all);
      if ('error' in target) return target;
      if (target.ids.length === 0) return { error: noPairMessage(ref, combo) };
      if (target.ids.includes(id)) return { error: 'a stage cannot read its own output through stages.ID; use ${{ outputs.dir }}' };
      if (target.ids.length > 1) {
        return { error: `stage ${ref} is a matrix stage: give this stage the same matrix axes to pair with it, or name one expansion (stages.${target.ids[0]}.outputs.dir)` };
      }
      return { id: target.ids[0]! };
    },
  };

  // params: a command stage's come from its own fields; any other stage's from `with`.
  let rawParams: Record<string, unknown>;
  if (declared.type === 'command') {
    rawParams = {};
    for (const field of COMMAND_FIELDS) {
      if (raw[field] !== undefined) rawParams[field] = ctx.resolver.resolve(raw[field], [...at, field], scope);
    }
    if (rawParams.env && typeof rawParams.env === 'object') {
      rawParams.env = Object.fromEntries(Object.entries(rawParams.env).map(([k, v]) => [k, typeof v === 'string' ? v : String(v)]));
    }
  } else {
    rawParams = (ctx.resolver.resolve(raw.with ?? {}, [...at, 'with'], scope) ?? {}) as Record<string, unknown>;
  }
  const description = typeof raw.description === 'string' ? (ctx.resolver.resolve(raw.description, [...at, 'description'], scope) as string) : undefined;
  const executorFields =
    raw.executor === undefined
      ? undefined
      : parseExecutorFields(ctx.resolver.resolve(raw.executor, [...at, 'executor'], scope), (path, message) => ctx.issues.add([...at, 'executor', ...path], message, { key: path.length > 0 && message.startsWith('unknown executor setting') }));

  // An unresolved expression would only add a confusing type error on top of its own.
  const validated: ReturnType<typeof validateStageParams<Record<string, unknown>>> =
    ctx.issues.reported > errorsBefore
      ? { ok: false, issues: [] }
      : ctx.paramsMemo
        ? ctx.paramsMemo.validate(id, definition, rawParams)
        : validateStageParams<Record<string, unknown>>(definition, rawParams);
  let params: Record<string, unknown> = rawParams;
  if (validated.ok) params = validated.params;
  else {
    for (const issue of validated.issues) {
      const segs = pointerToPath(issue.pointer);
      const path = declared.type === 'command' ? [...at, ...segs] : [...at, 'with', ...segs];
      const unknown = /^unknown field "(.*)"$/.exec(issue.message);
      if (unknown) {
        ctx.issues.add(path, unknownField(unknown[1]!, propertyNamesAt(definition.paramsSchema, segs.slice(0, -1))), { key: true });
      } else {
        const value = valueAt(rawParams, segs);
        const got = issue.message.startsWith('must ') && value !== undefined ? ` (got ${describeValue(value)})` : '';
        ctx.issues.add(path, issue.message + got, { key: path.length === 2 });
      }
    }
  }

  if (declared.type === 'command' && Array.isArray(rawParams.outs)) {
    rawParams.outs.forEach((out, i) => {
      if (typeof out === 'string' && (isAbsolute(out) || out.split(/[\\/]/).includes('..'))) {
        ctx.issues.add([...at, 'outs', i], `output path "${out}" escapes the stage's output directory (give a path inside it, without ".." or a leading "/")`);
      }
    });
  }

  const needs: string[] = [];
  const explicit = raw.needs === undefined ? [] : Array.isArray(raw.needs) ? raw.needs : [raw.needs];
  explicit.forEach((name, i) => {
    const path = Array.isArray(raw.needs) ? [...at, 'needs', i] : [...at, 'needs'];
    if (String(name).includes('${{')) return; // reported by checkExpressionPlacement
    const target = lookupStage(String(name), combo, all);
    if ('error' in target) ctx.issues.add(path, target.error);
    else if (target.ids.length === 0) ctx.issues.add(path, noPairMessage(String(name), combo));
    else for (const need of target.ids) if (!needs.includes(need)) needs.push(need);
  });
  for (const need of scope.implied) if (!needs.includes(need)) needs.push(need);

  let fileDeps: string[] = [];
  if (validated.ok) {
    try {
      // Every stage's deps come from its definition, the command stage's `deps:` list included.
      const declaredDeps = definition.fileDeps?.(params, ctx.pipelineDir) ?? [];
      fileDeps = [...new Set(declaredDeps.map((p) => resolve(ctx.pipelineDir, p)))];
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      ctx.issues.add(declared.type === 'command' ? at : [...at, 'with'], err.message, { key: declared.type === 'command' });
    }
  }

  if (ctx.issues.reported > errorsBefore) return undefined;
  const planned: PlannedStage = {
    id,
    baseId,
    type: declared.type!,
    definition,
    params,
    needs,
    ...(combo ? { matrix: combo } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(ctx.executor || executorFields ? { executor: mergeExecutorSettings(ctx.executor, executorFields) } : {}),
    location: ctx.source.locate(at, { key: true }),
    fileDeps,
  };
  // Not enumerable: a planned stage stays plain data to compare, copy and print.
  Object.defineProperty(planned, 'depLocation', {
    enumerable: false,
    value: (path: string) => {
      const deps = declared.type === 'command' && Array.isArray(params.deps) ? (params.deps as unknown[]) : [];
      const i = deps.findIndex((d) => typeof d === 'string' && resolve(ctx.pipelineDir, d) === path);
      if (i >= 0) return ctx.source.locate([...at, 'deps', i]);
      return ctx.source.locate(raw.with !== undefined ? [...at, 'with'] : at, { key: raw.with === undefined });
    },
  });
  return planned;
}

/**
 * The expanded ids a stage name denotes for a dependent with matrix values `combo`: a base id
 * pairs on matrix axes (see pairExpansions), an expanded id (`adapter[phi-2]`) denotes itself.
 */
function lookupStage(name: string, combo: MatrixCombo | undefined, all: ReadonlyMap<string, DeclaredStage>): { ids: string[] } | { error: string } {
  const base = all.get(name);
  if (base) return { ids: pairExpansions({ id: base.id, combos: base.combos }, combo).ids };
  const bracket = name.indexOf('[');
  const expanded = bracket > 0 ? all.get(name.slice(0, bracket)) : undefined;
  if (expanded?.combos?.some((c) => expandedId(expanded.id, c) === name)) return { ids: [name] };
  const near = suggest(name, [...all.keys()]);
  return { error: `unknown stage "${name}"${near ? ` (did you mean ${near}?)` : ''}` };
}

function noPairMessage(name: string, combo: MatrixCombo | undefined): string {
  const values = Object.entries(combo ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
  return `matrix stage ${name} has no expansion for this stage's values (${values}); pairing needs equal values on its axes`;
}

function valueAt(root: unknown, segs: readonly PathSeg[]): unknown {
  let current = root;
  for (const seg of segs) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[String(seg)];
  }
  return current;
}
