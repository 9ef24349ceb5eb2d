import { basename, dirname, extname, resolve } from 'node:path';
import { InternalError, UserError } from '../../core/errors.js';
import type { StageRegistry } from '../registry.js';
import { suggest } from './suggest.js';
import { checkConsumes } from './consumes.js';
import { findCycles, reachable, topologicalOrder } from './graph.js';
import { IssueList } from './issues.js';
import { declareStages, planExpansion, type DeclaredStage, type PlanContext } from './plan.js';
import { checkExpressionPlacement, ExpressionResolver } from './resolve.js';
import { checkPipelineSchema } from './schema.js';
import { ParamsMemo } from './params-memo.js';
import { paramsMemoPath, readParsedCopy, serializeSnapshot, writeParsedCopy } from './parse-cache.js';
import { PipelineSource } from './source.js';
import { applyOverrides, overrideNote, type ParamOverride } from './overrides.js';
import { PipelineError } from './types.js';
import { parseExecutorFields } from '../executors/settings.js';
import { type LoadedPipeline, type PlannedStage } from './types.js';

export interface LoadOptions {
  /**
   * A folder for parsed copies of pipeline files (e.g. `runs/index/pipelines`, see
   * parse-cache.ts): an unchanged file is then not parsed again. Results are the same either way.
   */
  parsedCacheDir?: string;
  /** `-S NAME=VALUE` overrides (overrides.ts), applied to the document before any check. */
  overrides?: readonly ParamOverride[];
}

/** Reads and checks a pipeline file. Throws a PipelineError listing every problem found. */
export function loadPipeline(file: string, registry: StageRegistry, options: LoadOptions = {}): LoadedPipeline {
  // Only a regular UTF-8 file within the size limit is read (limits.ts): a FIFO would block.
  return parsePipeline(PipelineSource.readText(file), file, registry, options);
}

/**
 * Parses and checks pipeline text; `file` names it in messages and anchors relative paths.
 * Order of checks: YAML syntax (fatal), the pipeline schema, expressions, stage types and
 * matrices, then per expansion: params against the stage's schema, needs, outs, consumes, and
 * finally cycles. Everything found is reported at once.
 */
export function parsePipeline(text: string, file: string, registry: StageRegistry, options: LoadOptions = {}): LoadedPipeline {
  const cacheDir = options.parsedCacheDir;
  const snapshot = cacheDir === undefined ? undefined : readParsedCopy(cacheDir, text);
  const source = new PipelineSource(file, text, snapshot);
  const toStore = cacheDir !== undefined && !snapshot ? serializeSnapshot(source.snapshot()) : undefined;
  // After the parsed copy is taken: the copy is of the file as written.
  const overridden = options.overrides?.length ? applyOverrides(source, options.overrides) : undefined;
  const issues = new IssueList(source);
  const doc = source.value;
  // A stored copy exists only for a text that passed this schema (its name includes the schema).
  const broken = snapshot ? new Set<string>() : checkPipelineSchema(doc, issues);
  const root = (doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? doc : {}) as Record<string, unknown>;
  const stagesRaw = root.stages !== null && typeof root.stages === 'object' && !Array.isArray(root.stages) ? (root.stages as Record<string, unknown>) : {};
  const params = (root.params !== null && typeof root.params === 'object' && !Array.isArray(root.params) ? root.params : {}) as Record<string, unknown>;
  const skip = checkExpressionPlacement(source, issues);

  const absFile = resolve(file);
  const ctx: PlanContext = {
    source,
    issues,
    resolver: new ExpressionResolver(source, issues, skip),
    registry,
    params,
    pipelineDir: dirname(absFile),
    // Beside a parsed copy only: a text that cannot have one is parsed and validated every time.
    // Not with overrides: the memo is of the file's own params.
    ...(cacheDir !== undefined && !overridden && (snapshot || toStore !== undefined) ? { paramsMemo: new ParamsMemo(paramsMemoPath(cacheDir, text)) } : {}),
  };
  if (root.executor !== undefined && !broken.has('/executor')) {
    const value = ctx.resolver.resolve(root.executor, ['executor'], { params, implied: [], stageOutput: () => ({ error: 'stage outputs are not known here' }) });
    const fields = parseExecutorFields(value, (path, message) => issues.add(['executor', ...path], message, { key: message.startsWith('unknown executor setting') }));
    if (fields) ctx.executor = fields;
  }
  const declared = declareStages(stagesRaw, broken, ctx);
  const byId = new Map<string, DeclaredStage>(declared.map((d) => [d.id, d]));
  const planned = new Map<string, PlannedStage>();
  const declarationOrder: string[] = [];
  let complete = true;
  for (const d of declared) {
    if (!d.plannable) {
      complete = false;
      continue;
    }
    for (const combo of d.combos ?? [undefined]) {
      const stage = planExpansion(d, combo, byId, ctx);
      if (stage) {
        planned.set(stage.id, stage);
        declarationOrder.push(stage.id);
      } else complete = false;
    }
  }
  // Graph checks need every stage planned: a missing node would read as a missing input.
  if (complete) {
    checkConsumes(planned, issues);
    for (const cycle of findCycles(declarationOrder, new Map([...planned].map(([id, s]) => [id, s.needs])))) {
      issues.add(['stages', planned.get(cycle[0]!)!.baseId, 'needs'], `needs form a cycle: ${cycle.join(' → ')}`);
    }
  }
  try {
    issues.throwIfAny();
  } catch (err) {
    if (!overridden || !(err instanceof PipelineError)) throw err;
    throw new PipelineError(err.issues.map((i) => {
      const note = overrideNote(i.path, overridden);
      return note ? { ...i, message: `${i.message} ${note}` } : i;
    }));
  }
  if (!complete) throw new InternalError('parsePipeline: a stage failed to plan without reporting an issue');
  if (cacheDir !== undefined && toStore !== undefined) writeParsedCopy(cacheDir, text, toStore);
  ctx.paramsMemo?.save();

  const order = topologicalOrder(declarationOrder, new Map([...planned].map(([id, s]) => [id, s.needs])));
  const stages = new Map(order.map((id) => [id, planned.get(id)!]));
  const name = typeof root.name === 'string' ? root.name : basename(file, extname(file));
  const seed = Number.isInteger(params.seed) ? (params.seed as number) : 0;
  const pipeline = new Pipeline(absFile, name, params, seed, stages, overridden);
  if (typeof root.cache_dir === 'string') pipeline.cacheDir = resolve(pipeline.dir, root.cache_dir);
  return pipeline;
}

class Pipeline implements LoadedPipeline {
  readonly dir: string;
  readonly version = 1 as const;
  cacheDir?: string;
  private readonly rank: Map<string, number>;
  private readonly dependentsOf = new Map<string, string[]>();

  constructor(
    readonly file: string,
    readonly name: string,
    readonly params: Record<string, unknown>,
    readonly seed: number,
    readonly stages: Map<string, PlannedStage>,
    readonly overrides?: Record<string, unknown>,
  ) {
    this.dir = dirname(file);
    this.rank = new Map([...stages.keys()].map((id, i) => [id, i]));
    for (const id of stages.keys()) this.dependentsOf.set(id, []);
    // Iterating in topological order keeps every dependents list in that order too.
    for (const stage of stages.values()) for (const need of stage.needs) this.dependentsOf.get(need)!.push(stage.id);
  }

  dependents(id: string): string[] {
    this.check([id]);
    return [...this.dependentsOf.get(id)!];
  }

  downstream(ids: string[]): string[] {
    this.check(ids);
    return this.sorted(reachable(ids, (id) => this.dependentsOf.get(id)!));
  }

  upstream(ids: string[]): string[] {
    this.check(ids);
    return this.sorted(reachable(ids, (id) => this.stages.get(id)!.needs));
  }

  select(names: string[]): string[] {
    const chosen = new Set<string>();
    for (const name of names) {
      if (this.stages.has(name)) {
        chosen.add(name);
        continue;
      }
      const expansions = [...this.stages.values()].filter((s) => s.baseId === name && s.matrix).map((s) => s.id);
      if (expansions.length === 0) throw this.unknown(name);
      for (const id of expansions) chosen.add(id);
    }
    return this.sorted(chosen);
  }

  private sorted(ids: Iterable<string>): string[] {
    return [...ids].sort((a, b) => this.rank.get(a)! - this.rank.get(b)!);
  }

  private check(ids: string[]): void {
    for (const id of ids) if (!this.stages.has(id)) throw this.unknown(id);
  }

  private unknown(name: string): UserError {
    const ids = [...new Set([...this.stages.values()].flatMap((s) => [s.baseId, s.id]))];
    const near = suggest(name, ids);
    return new UserError(
      'unknown-stage',
      `${this.file}: no stage "${name}"${near ? ` (did you mean ${near}?)` : ''}; stages: ${[...this.stages.keys()].join(', ')}`,
      { location: { file: this.file } },
    );
  }
}

