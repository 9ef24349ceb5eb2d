import { createHash } from 'node:crypto';
import { InternalError } from './errors.js';

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit order, no whitespace, arrays in order,
 * numbers as JSON.stringify writes them. Used for every hash, so that reordering keys in a YAML
 * file never changes a stage key. `undefined` object members are dropped (as JSON.stringify does);
 * non-finite numbers, functions, symbols and bigints are rejected rather than silently mangled.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new InternalError(`canonicalJson: non-finite number at ${path}`);
      return JSON.stringify(value);
    case 'object': {
      // Plain loops rather than map/filter/join closures: stage keys are computed for every
      // stage of every run, and this is ~3x faster before the JIT has warmed up.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += (i === 0 ? '' : ',') + write(v === undefined ? null : v, `${path}[${i}]`);
        }
        return `${out}]`;
      }
      const obj = value as Record<string, unknown>;
      let out = '{';
      for (const k of Object.keys(obj).sort()) {
        const v = obj[k];
        if (v === undefined) continue;
        out += (out.length === 1 ? '' : ',') + JSON.stringify(k) + ':' + write(v, `${path}.${k}`);
      }
      return `${out}}`;
    }
    default:
      throw new InternalError(`canonicalJson: cannot encode ${typeof value} at ${path}`);
  }
}

/** sha256 hex of the canonical JSON of `value`. */
export function hashJson(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
