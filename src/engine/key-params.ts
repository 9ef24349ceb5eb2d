/**
 * The params that join a stage's key and seed: the validated params less every value equal to its
 * schema default. A stage type can then gain a param with a default (the old behaviour) without
 * moving the keys of pipelines that do not set it, and `count: 40` written out equals leaving a
 * default of 40 unwritten. Stages still run with every default filled (PlannedStage.params).
 *
 * Only `properties` with a `default` are dropped, recursing into nested `properties` blocks (what
 * ajv's useDefaults fills). A value under anyOf/oneOf/items is kept as it is: ajv fills no
 * defaults there, so nothing there can appear by itself.
 *
 * The price: a stage type that changes a default VALUE must bump its version, or pipelines relying
 * on the default would keep their keys (and cached outputs) while the stage means something else.
 */
import { canonicalJson } from '../core/canonical-json.js';

type Schema = { properties?: Record<string, Schema>; default?: unknown } & Record<string, unknown>;

/** A deep copy of `params` without the members equal to their schema default. */
export function keyParams(params: Record<string, unknown>, schema: unknown): Record<string, unknown> {
  return dropDefaults(params, schema as Schema);
}

function dropDefaults(value: Record<string, unknown>, schema: Schema | undefined): Record<string, unknown> {
  const props = schema?.properties;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const sub = props?.[k];
    if (sub && 'default' in sub && sameJson(v, sub.default)) continue;
    if (sub && isRecord(v) && isRecord(sub.properties)) {
      const nested = dropDefaults(v, sub);
      // An object default filled in member by member (`hub: {}` whose members have defaults)
      // equals its default once both lose their defaulted members.
      if ('default' in sub && isRecord(sub.default) && sameJson(nested, dropDefaults(sub.default, sub))) continue;
      out[k] = nested;
    } else {
      out[k] = v;
    }
  }
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
