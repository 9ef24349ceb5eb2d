/**
 * Record validation against the JSON Schemas in `schemas/`: one compiled ajv validator per
 * schema, made on first use (ajv loads in ~80 ms, so a fully cached run that reads no record
 * never pays for it). A record costs one validator call, a few microseconds. Every schema can
 * `$ref` the shared definitions of survey-item.schema.json.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Ajv, ValidateFunction } from 'ajv';
import { readJsonFile } from '../core/files.js';
import { describeAjvError, fieldPath } from '../core/json-schema.js';
import { packageRoot } from '../core/paths.js';

/** The schema files of the record formats, by the name used in messages. */
export type RecordSchema = 'chatml-record' | 'prediction-record' | 'adapter-config' | 'dataset-record';

/** The definitions every record schema may `$ref`. */
const SHARED = 'survey-item';

let ajvInstance: Ajv | undefined;
const validators = new Map<RecordSchema, ValidateFunction>();

function schemaFile(name: string): string {
  return join(packageRoot(), 'schemas', `${name}.schema.json`);
}

function ajv(): Ajv {
  if (!ajvInstance) {
    const { Ajv: AjvClass } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    // verbose: errors carry their schema, so a `contains` error can say what it looked for.
    ajvInstance = new AjvClass({ allErrors: false, strict: false, verbose: true });
    ajvInstance.addSchema(readJsonFile(schemaFile(SHARED)) as object);
  }
  return ajvInstance;
}

/** The JSON Schema of a record format (or the shared definitions), parsed. */
export function recordSchema(name: RecordSchema | typeof SHARED): object {
  return readJsonFile(schemaFile(name)) as object;
}

/**
 * The first problem of `value` against the schema as `field: message` (`messages[0].role: must be
 * one of "system", "user", "assistant"`), or undefined when it is valid.
 */
export function schemaProblem(name: RecordSchema, value: unknown): string | undefined {
  let validate = validators.get(name);
  if (!validate) {
    validate = ajv().compile(recordSchema(name));
    validators.set(name, validate);
  }
  if (validate(value)) return undefined;
  const issue = describeAjvError(validate.errors![0]!);
  const field = fieldPath(issue.pointer);
  return field === '' ? issue.message : `${field}: ${issue.message}`;
}
