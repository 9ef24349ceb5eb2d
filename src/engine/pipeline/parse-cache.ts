/**
 * A parse cache for pipeline files, like the lock file's (store/pipeline-lock.ts): the parse of a
 * pipeline that loaded without problems is kept as JSON, named by the sha256 of its text (and of
 * the pipeline schema and this format's version), e.g. `runs/index/pipelines/<sha256>.json`.
 * Parsing a 1,000-stage pipeline with the `yaml` package costs ~0.3–1 s here; reading the JSON
 * ~10 ms. Only the parse and the pipeline-schema check are skipped: expressions, stage types,
 * params, needs and the graph are checked on every load, against the stages registered now.
 * A changed byte in the file gives another name, so an edited pipeline is parsed afresh.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { pipelineSchemaText } from './schema.js';
import type { SourceSnapshot } from './source.js';

/**
 * Bump when SourceSnapshot or what it means changes: older copies are then never read.
 * 2: the loader's limits (limits.ts) and refusals (tags, .inf, unsafe integers); a text stored
 * by format 1 may break them.
 */
const FORMAT = 2;

/** Where the parsed copy of `text` lives in `dir`. */
export function parsedCopyPath(dir: string, text: string): string {
  const hash = createHash('sha256').update(`polypersona pipeline parse ${FORMAT}\0`).update(pipelineSchemaText()).update('\0').update(text);
  return join(dir, `${hash.digest('hex')}.json`);
}

/** Where the params validation memo of `text` lives in `dir` (params-memo.ts). */
export function paramsMemoPath(dir: string, text: string): string {
  return parsedCopyPath(dir, text).replace(/\.json$/, '.params.json');
}

/** The stored snapshot of `text`; undefined when there is none or it is unreadable (then it is parsed again). */
export function readParsedCopy(dir: string, text: string): SourceSnapshot | undefined {
  const path = parsedCopyPath(dir, text);
  if (!existsSync(path)) return undefined;
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as Partial<SourceSnapshot>;
    const ok =
      typeof s === 'object' && s !== null && 'value' in s &&
      Array.isArray(s.expressions) && Array.isArray(s.expressionStrings) && Array.isArray(s.keyExpressions) &&
      Array.isArray(s.unterminated) && typeof s.stageKeys === 'object' && s.stageKeys !== null;
    return ok ? (s as SourceSnapshot) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The stored form of a snapshot, taken right after parsing (before any check could touch the
 * value); undefined when JSON cannot carry its value exactly (-0; the loader refuses .inf and
 * .nan): such a pipeline is simply parsed every time.
 */
export function serializeSnapshot(snapshot: SourceSnapshot): string | undefined {
  return jsonExact(snapshot.value) ? JSON.stringify(snapshot) : undefined;
}

/** Stores a serialized snapshot of `text`; a failed write (a read-only runs folder) only costs the next load a parse. */
export function writeParsedCopy(dir: string, text: string, serialized: string): void {
  try {
    writeFileAtomic(parsedCopyPath(dir, text), serialized);
  } catch {
    // not fatal: see above
  }
}

/** Whether JSON.parse(JSON.stringify(value)) gives back exactly `value`. */
export function jsonExact(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (Array.isArray(value)) return value.every(jsonExact);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).every(jsonExact);
  return false;
}
