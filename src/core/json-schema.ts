/**
 * User-facing words for JSON Schema (ajv) errors, shared by the params validator
 * (engine/params.ts), the question bank loader and the record readers of src/formats.
 * Type-only use of ajv: this module loads nothing.
 */
import type { ErrorObject } from 'ajv';

export interface SchemaIssue {
  /** JSON pointer of the offending value, e.g. `/split/train`; empty for the whole document. */
  pointer: string;
  message: string;
}

/** A one-line description of an ajv error, with the offending key for typos. */
export function describeAjvError(err: ErrorObject): SchemaIssue {
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties':
      return { pointer: `${err.instancePath}/${String(params.additionalProperty)}`, message: `unknown field "${String(params.additionalProperty)}"` };
    case 'required':
      return { pointer: err.instancePath, message: `missing required field "${String(params.missingProperty)}"` };
    case 'enum':
      return { pointer: err.instancePath, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'type':
      return { pointer: err.instancePath, message: `must be ${String(params.type).split(',').join(' or ')}` };
    case 'const':
      return { pointer: err.instancePath, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'contains': {
      // With ajv's `verbose`, the schema says what was looked for (its `description`).
      const wanted = (err.schema as { description?: unknown } | undefined)?.description;
      return { pointer: err.instancePath, message: typeof wanted === 'string' ? `needs ${wanted}` : err.message ?? err.keyword };
    }
    default:
      return { pointer: err.instancePath, message: err.message ?? err.keyword };
  }
}

/** A JSON pointer as a field path: `/messages/0/role` → `messages[0].role`; '' → ''. */
export function fieldPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}
