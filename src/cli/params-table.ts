/**
 * A stage's params schema as a person reads it: one row per param (nested objects flattened to
 * `teacher.kind`), with its type, default and description.
 *
 *   param          type     default   description
 *   r              integer  16        LoRA rank
 *   teacher.kind   enum     template  template | openai | model — template: offline, …
 */
export interface ParamRow {
  name: string;
  type: string;
  default: string;
  description: string;
}

type Schema = Record<string, unknown>;

export function paramRows(schema: unknown, prefix = ''): ParamRow[] {
  const props = (schema as Schema | undefined)?.properties as Record<string, Schema> | undefined;
  if (!props) return [];
  const rows: ParamRow[] = [];
  for (const [key, prop] of Object.entries(props)) {
    const name = `${prefix}${key}`;
    const nested = prop.properties ? paramRows(prop, `${name}.`) : [];
    if (nested.length > 0) {
      rows.push(...nested);
      continue;
    }
    rows.push({ name, type: typeOf(prop), default: 'default' in prop ? show(prop.default) : required(schema, key) ? '(required)' : '', description: describe(prop) });
  }
  return rows;
}

function required(schema: unknown, key: string): boolean {
  const r = (schema as Schema).required;
  return Array.isArray(r) && r.includes(key);
}

function typeOf(prop: Schema): string {
  if (Array.isArray(prop.enum)) return 'enum';
  if (prop.type === 'array') {
    const items = prop.items as Schema | undefined;
    return `${items ? typeOf(items) : 'any'}[]`;
  }
  if (Array.isArray(prop.type)) return prop.type.join(' | ');
  if (typeof prop.type === 'string') return prop.type;
  if (Array.isArray(prop.oneOf) || Array.isArray(prop.anyOf)) return ((prop.oneOf ?? prop.anyOf) as Schema[]).map(typeOf).join(' | ');
  return 'any';
}

function describe(prop: Schema): string {
  const parts: string[] = [];
  if (Array.isArray(prop.enum)) parts.push(prop.enum.map(String).join(' | '));
  const bounds: string[] = [];
  if (typeof prop.minimum === 'number') bounds.push(`≥ ${prop.minimum}`);
  if (typeof prop.exclusiveMinimum === 'number') bounds.push(`> ${prop.exclusiveMinimum}`);
  if (typeof prop.maximum === 'number') bounds.push(`≤ ${prop.maximum}`);
  if (typeof prop.exclusiveMaximum === 'number') bounds.push(`< ${prop.exclusiveMaximum}`);
  if (bounds.length) parts.push(bounds.join(', '));
  if (typeof prop.description === 'string') parts.push(prop.description);
  return parts.join(' — ');
}

function show(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return JSON.stringify(v);
}

/** The rows as an aligned table; descriptions wrap under their own column at `width`. */
export function formatParamTable(rows: ParamRow[], width = 100): string[] {
  const head: ParamRow = { name: 'param', type: 'type', default: 'default', description: 'description' };
  const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const w = {
    name: Math.max(...[head, ...rows].map((r) => r.name.length)),
    type: Math.min(16, Math.max(...[head, ...rows].map((r) => r.type.length))),
    default: Math.min(24, Math.max(...[head, ...rows].map((r) => r.default.length))),
  };
  const indent = w.name + w.type + w.default + 6;
  const descWidth = Math.max(30, width - indent);
  const lines: string[] = [];
  for (const r of [head, ...rows]) {
    const words = r.description.split(/\s+/).filter(Boolean);
    const wrapped: string[] = [];
    let line = '';
    for (const word of words) {
      if (line && line.length + 1 + word.length > descWidth) {
        wrapped.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    if (line) wrapped.push(line);
    lines.push(`${r.name.padEnd(w.name)}  ${clip(r.type, w.type).padEnd(w.type)}  ${clip(r.default, w.default).padEnd(w.default)}  ${wrapped[0] ?? ''}`.trimEnd());
    for (const more of wrapped.slice(1)) lines.push(`${' '.repeat(indent)}${more}`);
  }
  return lines;
}
