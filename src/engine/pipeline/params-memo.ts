/**
 * Memo of stage params validation for one pipeline text, stored beside its parsed copy
 * (`runs/index/pipelines/<sha256>.params.json`, see parse-cache.ts). Per expanded stage id it
 * keeps the sha256 of the params schema validated against, the raw params (JSON) and the
 * validated params with defaults filled (JSON). Validation is a pure function of schema and raw
 * params (ajv, fixed options), so an entry whose schema hash and raw params both match is
 * the answer ajv would give — and a cached run of 1,000 stages then never loads ajv (~150 ms
 * of start-up and first compile). Any mismatch (a stage's schema changed, an edited param) is
 * validated by ajv, and the memo rewritten after a load that succeeds.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { writeFileAtomic } from '../../core/atomic.js';
import type { StageDefinition } from '../contract.js';
import { PARAMS_AJV_OPTIONS, validateStageParams, type ParamsResult } from '../params.js';
import { jsonExact } from './parse-cache.js';

/** Bump when the memo's meaning changes. */
const FORMAT = 1;

interface MemoEntry {
  /** sha256 of JSON.stringify(paramsSchema). */
  s: string;
  /** JSON.stringify(raw params). */
  r: string;
  /** JSON.stringify(validated params). */
  p: string;
}

interface MemoFile {
  format: number;
  /** The validator: ajv's version and options; another one invalidates every entry. */
  validator: string;
  stages: Record<string, MemoEntry>;
}

const schemaHashes = new WeakMap<object, string | null>();

function schemaHash(definition: StageDefinition): string | undefined {
  const schema = definition.paramsSchema as object;
  let hash = schemaHashes.get(schema);
  if (hash === undefined) {
    try {
      hash = createHash('sha256').update(JSON.stringify(schema)).digest('hex');
    } catch {
      hash = null; // not JSON (a cycle): never memoised
    }
    schemaHashes.set(schema, hash);
  }
  return hash ?? undefined;
}

let validatorId: string | undefined;
function validator(): string {
  if (validatorId === undefined) {
    const ajvVersion = (createRequire(import.meta.url)('ajv/package.json') as { version: string }).version;
    validatorId = `ajv ${ajvVersion} ${JSON.stringify(PARAMS_AJV_OPTIONS)}`;
  }
  return validatorId;
}

export class ParamsMemo {
  private readonly stored: Record<string, MemoEntry>;
  private readonly used: Record<string, MemoEntry> = {};
  private changed: boolean;

  /** The memo at `path` (none, unreadable or from another validator: an empty one). */
  constructor(private readonly path: string) {
    this.stored = {};
    this.changed = true;
    if (!existsSync(path)) return;
    try {
      const file = JSON.parse(readFileSync(path, 'utf8')) as Partial<MemoFile>;
      if (file.format === FORMAT && file.validator === validator() && typeof file.stages === 'object' && file.stages !== null) {
        this.stored = file.stages;
        this.changed = false;
      }
    } catch {
      // unreadable: validated afresh and rewritten
    }
  }

  /** validateStageParams(definition, raw), answered from the memo when schema and raw params match. */
  validate(id: string, definition: StageDefinition, raw: Record<string, unknown>): ParamsResult<Record<string, unknown>> {
    const s = schemaHash(definition);
    const r = s !== undefined && jsonExact(raw) ? JSON.stringify(raw) : undefined;
    const hit = Object.prototype.hasOwnProperty.call(this.stored, id) ? this.stored[id] : undefined;
    if (r !== undefined && hit && hit.s === s && hit.r === r && typeof hit.p === 'string') {
      this.used[id] = hit;
      return { ok: true, params: JSON.parse(hit.p) as Record<string, unknown> };
    }
    this.changed = true;
    const result = validateStageParams<Record<string, unknown>>(definition, raw);
    if (result.ok && r !== undefined && jsonExact(result.params)) this.used[id] = { s: s!, r, p: JSON.stringify(result.params) };
    return result;
  }

  /** After a successful load: stores the entries this load used, when they differ from the file's. */
  save(): void {
    if (!this.changed && Object.keys(this.stored).length === Object.keys(this.used).length) return;
    try {
      writeFileAtomic(this.path, JSON.stringify({ format: FORMAT, validator: validator(), stages: this.used } satisfies MemoFile));
    } catch {
      // a read-only runs folder: the next load validates again
    }
  }
}
