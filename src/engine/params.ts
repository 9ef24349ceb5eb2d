import { createRequire } from 'node:module';
import type { Ajv, ValidateFunction } from 'ajv';
import { describeAjvError, type SchemaIssue } from '../core/json-schema.js';
import type { StageDefinition } from './contract.js';

/**
 * Validation of a stage's `with:` block against its params schema: ajv with defaults filled in,
 * unknown keys rejected (typos), types not coerced. One compiled validator per stage type.
 * ajv is loaded on first use (~80 ms to load, ~60 ms for its first compile): a cached run whose
 * params the loader's memo already knows (pipeline/params-memo.ts) never needs it.
 */
export const PARAMS_AJV_OPTIONS = { allErrors: true, useDefaults: true, strict: false, coerceTypes: false } as const;
let ajvInstance: Ajv | undefined;
const ajv = (): Ajv => (ajvInstance ??= new (createRequire(import.meta.url)('ajv') as typeof import('ajv')).Ajv(PARAMS_AJV_OPTIONS));
const compiled = new WeakMap<object, ValidateFunction>();

/** One problem in a `with:` block (see core/json-schema.ts). */
export type ParamIssue = SchemaIssue;

export type ParamsResult<P> = { ok: true; params: P } | { ok: false; issues: ParamIssue[] };

/** Returns a deep copy of `raw` with defaults filled, or the list of problems. */
export function validateStageParams<P>(definition: StageDefinition<P>, raw: unknown): ParamsResult<P> {
  let validate = compiled.get(definition.paramsSchema);
  if (!validate) {
    validate = ajv().compile(definition.paramsSchema);
    compiled.set(definition.paramsSchema, validate);
  }
  const params = structuredClone(raw ?? {});
  if (validate(params)) return { ok: true, params: params as P };
  return { ok: false, issues: (validate.errors ?? []).map(describeAjvError) };
}
