import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { packageRoot } from '../../core/paths.js';
import { suggest } from './suggest.js';
import type { IssueList } from './issues.js';
import type { PathSeg } from './source.js';

/**
 * Structural validation of a pipeline document against schemas/pipeline.schema.json, and
 * helpers that turn ajv errors into messages that name the field and suggest a spelling.
 */
let pipelineValidator: ValidateFunction | undefined;
let schemaText: string | undefined;

/** The text of schemas/pipeline.schema.json (the parse cache's key includes it). */
export function pipelineSchemaText(): string {
  return (schemaText ??= readFileSync(join(packageRoot(), 'schemas', 'pipeline.schema.json'), 'utf8'));
}

function validator(): ValidateFunction {
  if (!pipelineValidator) {
    const schema = JSON.parse(pipelineSchemaText()) as object;
    // Loaded here, not at import: a pipeline from the parse cache skips this check (parse-cache.ts).
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    pipelineValidator = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(schema);
  }
  return pipelineValidator;
}

/** Adds one issue per schema violation; returns the ids of stages that have any (and `/field` for a top-level field). */
export function checkPipelineSchema(document: unknown, issues: IssueList): Set<string> {
  const validate = validator();
  const broken = new Set<string>();
  if (validate(document)) return broken;
  for (const err of validate.errors ?? []) {
    const path = pointerToPath(err.instancePath);
    if (path[0] === 'stages' && typeof path[1] === 'string') broken.add(path[1]);
    // A broken top-level field is named with a leading "/" (never a stage id): its own checks skip it.
    else if (typeof path[0] === 'string' && path[0] !== 'stages') broken.add(`/${path[0]}`);
    if (err.keyword === 'propertyNames' && path.length === 1 && path[0] === 'stages' && err.params) broken.add(String(err.params.propertyName));
    // propertyNames repeats the nested pattern error; keep one.
    if (err.keyword === 'pattern' && err.propertyName !== undefined) continue;
    const described = describePipelineError(err, path);
    issues.add(described.path, described.message, { key: described.key });
  }
  return broken;
}

function describePipelineError(err: ErrorObject, path: PathSeg[]): { path: PathSeg[]; message: string; key?: boolean } {
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const known = Object.keys(((err.parentSchema ?? {}) as { properties?: object }).properties ?? {});
      return { path: [...path, field], message: unknownField(field, known), key: true };
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      const what = path.length === 1 && path[0] === 'stages' ? 'stage id' : 'matrix axis name';
      return { path: [...path, name], message: `invalid ${what} "${name}" (letters, digits, "_" and "-"; not starting with a digit or "-")`, key: true };
    }
    case 'required':
      return { path, message: `missing required field "${String(params.missingProperty)}"` };
    case 'const':
      if (path.length === 1 && path[0] === 'version') {
        return { path, message: `unsupported version ${JSON.stringify(err.data)} (this polypersona reads version 1)` };
      }
      return { path, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'type':
      return { path, message: `must be ${String(params.type).split(',').join(' or ')} (got ${describeValue(err.data)})` };
    case 'minProperties':
      return { path, message: 'must not be empty' };
    case 'minItems':
      return { path, message: 'must list at least one value' };
    case 'uniqueItems':
      return { path, message: 'lists the same stage twice' };
    default:
      return { path, message: err.message ?? err.keyword };
  }
}

/** `unknown field (did you mean learning_rate?)`, or the known fields when none is close. */
export function unknownField(field: string, known: readonly string[]): string {
  const near = suggest(field, known);
  if (near) return `unknown field (did you mean ${near}?)`;
  return known.length > 0 ? `unknown field; known fields: ${[...known].sort().join(', ')}` : 'unknown field';
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${typeof value} ${text.slice(0, 37)}...` : `${typeof value} ${text}`;
}

/** `/stages/a/needs/0` -> ['stages', 'a', 'needs', 0]. Numeric segments become indexes. */
export function pointerToPath(pointer: string): PathSeg[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

/**
 * The property names a JSON Schema allows at `path` (for did-you-mean on unknown params):
 * follows properties, items, additionalProperties, local $refs and all/any/oneOf branches.
 */
export function propertyNamesAt(schema: unknown, path: readonly PathSeg[]): string[] {
  const names = new Set<string>();
  const visit = (node: unknown, depth: number, seen: Set<unknown>): void => {
    const s = resolveRef(schema, node);
    if (!s || typeof s !== 'object' || seen.has(s)) return;
    seen.add(s);
    const obj = s as Record<string, unknown>;
    for (const branch of ['allOf', 'anyOf', 'oneOf'] as const) {
      if (Array.isArray(obj[branch])) for (const b of obj[branch] as unknown[]) visit(b, depth, seen);
    }
    if (depth === path.length) {
      for (const name of Object.keys((obj.properties as object | undefined) ?? {})) names.add(name);
      return;
    }
    const seg = path[depth]!;
    const props = (obj.properties ?? {}) as Record<string, unknown>;
    if (typeof seg === 'string' && seg in props) visit(props[seg], depth + 1, seen);
    else if (typeof seg === 'number' && obj.items) visit(obj.items, depth + 1, seen);
    else if (obj.additionalProperties && typeof obj.additionalProperties === 'object') visit(obj.additionalProperties, depth + 1, seen);
  };
  visit(schema, 0, new Set());
  return [...names];
}

function resolveRef(root: unknown, node: unknown): unknown {
  let current = node;
  for (let hops = 0; hops < 16; hops++) {
    const ref = (current as { $ref?: unknown } | null)?.$ref;
    if (typeof ref !== 'string' || !ref.startsWith('#')) return current;
    current = pointerToPath(ref.slice(1)).reduce<unknown>((n, seg) => (n as Record<string, unknown> | undefined)?.[String(seg)], root);
  }
  return current;
}
