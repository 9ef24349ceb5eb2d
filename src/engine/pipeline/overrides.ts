/**
 * Param overrides, after DVC's `exp run -S`: `polypersona run -S seed=8 -S adapter.learning_rate=1e-4`
 * runs the pipeline as if its file said so, without editing it. An override names
 *   - a pipeline param:          `seed=8`  or  `params.seed=8`
 *   - a stage's `with:` value:   `adapter.learning_rate=1e-4`, `dataset.teacher.kind=template`
 *                                or in full `stages.adapter.with.learning_rate=1e-4`
 * Values are YAML scalars or flow collections (`8`, `1e-4`, `true`, `null`, `[bleu, rouge]`,
 * `{kind: template}`), read as the pipeline file would read them; a value that does not parse
 * stays a string. Overrides are applied to the parsed document before any check, so a bad value
 * is reported like a bad value in the file, and `${{ params.seed }}` sees the overridden seed.
 */
import { UserError } from '../../core/errors.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { suggest } from './suggest.js';
import { formatPath, type PathSeg, type PipelineSource } from './source.js';
import { yaml } from './yaml.js';

export interface ParamOverride {
  /** As typed: `adapter.learning_rate=1e-4`. */
  given: string;
  /** The dotted name before `=`. */
  name: string;
  value: unknown;
}

/** Parses `NAME=VALUE` (as given to `-S`); throws a UserError naming the bad one. */
export function parseOverride(given: string): ParamOverride {
  const eq = given.indexOf('=');
  const name = eq < 0 ? '' : given.slice(0, eq).trim();
  if (eq < 0 || name === '' || name.split('.').some((p) => p === '')) {
    throw new UserError('usage', `-S ${given}: expected NAME=VALUE, e.g. -S seed=8 or -S adapter.learning_rate=1e-4`);
  }
  return { given, name, value: parseValue(given.slice(eq + 1)) };
}

function parseValue(text: string): unknown {
  if (text.trim() === '') return '';
  try {
    const doc = yaml().parseDocument(text);
    if (doc.errors.length === 0) return doc.toJS();
  } catch {
    // Not YAML: the text itself.
  }
  return text;
}

/**
 * Sets each override in the document (`source.value`, mutated) and drops the `${{ }}` the
 * overridden values replace. Returns the overrides by full path (`stages.adapter.with.learning_rate`),
 * the shape the run history records. Throws a UserError for a name that is neither a param nor
 * a stage, or that is both (say `params.X` or `stages.X.with...`).
 */
export function applyOverrides(source: PipelineSource, overrides: readonly ParamOverride[]): Record<string, unknown> {
  const root = asRecord(source.value);
  if (!root) throw new UserError('usage', `-S: ${source.file} is not a pipeline (no top-level mapping)`);
  const params = asRecord(root.params) ?? {};
  const stages = asRecord(root.stages) ?? {};
  const applied: Record<string, unknown> = {};
  for (const o of overrides) {
    const path = resolvePath(o, Object.keys(params), Object.keys(stages), source.file);
    setIn(root, path, o.value);
    // A `${{ }}` at or under the path is replaced by the literal value.
    const under = (p: readonly PathSeg[]): boolean => path.every((seg, i) => p[i] === seg);
    for (let i = source.expressionStrings.length - 1; i >= 0; i--) if (under(source.expressionStrings[i]!.path)) source.expressionStrings.splice(i, 1);
    applied[formatPath(path)] = o.value;
  }
  return applied;
}

function resolvePath(o: ParamOverride, paramNames: string[], stageIds: string[], file: string): PathSeg[] {
  const parts = o.name.split('.');
  const [head, ...rest] = parts as [string, ...string[]];
  if (head === 'params' && rest.length > 0) return checkParam(o, rest, paramNames, file);
  if (head === 'stages' && rest.length >= 3 && rest[1] === 'with') return checkStage(o, rest[0]!, rest.slice(2), stageIds, file);
  const isParam = paramNames.includes(head);
  const isStage = stageIds.includes(head) && rest.length > 0;
  if (isParam && isStage) {
    throw new UserError('usage', `-S ${o.given}: "${head}" is both a pipeline param and a stage; write params.${o.name} or stages.${head}.with.${rest.join('.')}`);
  }
  if (isParam) return ['params', ...parts];
  if (isStage) return ['stages', head, 'with', ...rest];
  if (stageIds.includes(head)) throw new UserError('usage', `-S ${o.given}: name a value of stage "${head}", e.g. -S ${head}.PARAM=VALUE`);
  const near = suggest(head, [...paramNames, ...stageIds]);
  throw new UserError(
    'usage',
    `-S ${o.given}: ${file} has no param or stage "${head}"${near ? ` (did you mean ${near}?)` : ''}; params: ${paramNames.join(', ') || '(none)'}; stages: ${stageIds.join(', ')}`,
  );
}

function checkParam(o: ParamOverride, rest: string[], paramNames: string[], file: string): PathSeg[] {
  if (!paramNames.includes(rest[0]!)) {
    const near = suggest(rest[0]!, paramNames);
    throw new UserError('usage', `-S ${o.given}: ${file} has no param "${rest[0]}"${near ? ` (did you mean ${near}?)` : ''}; params: ${paramNames.join(', ') || '(none)'}`);
  }
  return ['params', ...rest];
}

function checkStage(o: ParamOverride, id: string, rest: string[], stageIds: string[], file: string): PathSeg[] {
  if (!stageIds.includes(id)) {
    const near = suggest(id, stageIds);
    throw new UserError('usage', `-S ${o.given}: ${file} has no stage "${id}"${near ? ` (did you mean ${near}?)` : ''}`);
  }
  return ['stages', id, 'with', ...rest];
}

/** Sets `value` at `path`, making mappings on the way (a stage without `with:` gets one). */
function setIn(root: Record<string, unknown>, path: PathSeg[], value: unknown): void {
  let node: Record<string, unknown> = root;
  for (const seg of path.slice(0, -1)) {
    const next = asRecord(node[seg as string]);
    if (next) node = next;
    else {
      const made: Record<string, unknown> = {};
      node[seg as string] = made;
      node = made;
    }
  }
  node[path.at(-1) as string] = value;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Suffix for a load error whose field an override set, so the user looks at the command line, not the file. */
export function overrideNote(issuePath: string, applied: Record<string, unknown>): string | undefined {
  for (const [path, value] of Object.entries(applied)) {
    if (issuePath === path || issuePath.startsWith(`${path}.`) || issuePath.startsWith(`${path}[`)) return `(set by -S ${path}=${canonicalJson(value)})`;
  }
  return undefined;
}
