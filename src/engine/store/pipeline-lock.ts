/**
 * `<pipeline>.lock.yaml`, beside the pipeline file (like dvc.lock): per stage, its key, params,
 * inputs, deps and output digest. Commit it; `polypersona verify` re-runs every stage and
 * compares output digests with it. Written deterministically (stages in pipeline order, fields in
 * a fixed order, params/inputs/deps keys sorted) so that an unchanged run rewrites the same bytes
 * and a diff shows exactly what changed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { Document } from 'yaml';
import { writeFileAtomic } from '../../core/atomic.js';
import { UserError } from '../../core/errors.js';
import type { CacheEntry } from './artifact-store.js';
import type { OutputSummaries } from './output-summary.js';
import type { StageRecord } from './record.js';
import { isOutputDigest, isStageKey, type OutputDigest, type StageKey, type StageKeyInputs } from './fingerprint.js';

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;
/** The `yaml` package, loaded only to parse a lock file not seen before or to write one: a no-op run needs neither. */
function yaml(): YamlModule {
  return (yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule);
}

/** The key inputs (store/fingerprint.ts), the key they give, and the outputs. */
export interface LockedStage extends StageKeyInputs {
  key: StageKey;
  outputs: { digest: OutputDigest; files: number; bytes: number };
  /**
   * What `verify` compares when the digest differs (lock version 2): every output file's sha256,
   * and for tensors, predictions and metrics their summaries (output-summary.ts). Absent in a
   * version 1 lock.
   */
  check?: StageCheck;
}

export interface StageCheck extends OutputSummaries {
  /** Output path -> sha256. */
  files: Record<string, string>;
}

/** 2: stages carry `check` and params leave out schema defaults (engine/key-params.ts). Version 1 locks are still read. */
export const LOCK_VERSION = 2;

export interface PipelineLock {
  version: 1 | 2;
  pipeline: string;
  stages: Record<string, LockedStage>;
}

/** dir/NAME.yaml -> dir/NAME.lock.yaml (NAME.yml -> NAME.lock.yml; anything else gets .lock.yaml appended). */
export function lockFilePath(pipelineFile: string): string {
  const name = basename(pipelineFile);
  const m = /^(.*)\.(ya?ml)$/.exec(name);
  return join(dirname(pipelineFile), m ? `${m[1]}.lock.${m[2]}` : `${name}.lock.yaml`);
}

/** The lock file at `path`; undefined when there is none. Malformed: UserError naming file:line. */
export interface LockReadOptions {
  /**
   * A folder for parsed copies of lock files, named by the sha256 of their text (e.g.
   * `runs/index/locks`). YAML parsing of a 1,000-stage lock file costs ~0.3–1 s here, JSON ~15 ms:
   * a no-op re-run reads the parsed copy when the text is byte-identical to one already checked.
   */
  parsedCacheDir?: string;
}

export function readPipelineLock(path: string, options: LockReadOptions = {}): PipelineLock | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  const cached = options.parsedCacheDir ? join(options.parsedCacheDir, `${sha256Hex(text)}.json`) : undefined;
  if (cached && existsSync(cached)) {
    try {
      return JSON.parse(readFileSync(cached, 'utf8')) as PipelineLock;
    } catch {
      // A damaged copy is ignored and rewritten below from the real file.
    }
  }
  const lock = parseLockText(path, text);
  if (cached) writeFileAtomic(cached, JSON.stringify(lock));
  return lock;
}

/** A lock file's text (from `git show`, say), checked like a file; `path` names it in errors. */
export function parsePipelineLock(path: string, text: string): PipelineLock {
  return parseLockText(path, text);
}

function parseLockText(path: string, text: string): PipelineLock {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    throw lockError(path, pos.line, pos.col, `not valid YAML: ${first.message.split('\n')[0]}`);
  }
  const at = (fieldPath: Array<string | number>, message: string): UserError => {
    // The deepest node that exists along the path gives the line.
    for (let n = fieldPath.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(fieldPath.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) {
        const pos = lineCounter.linePos(range[0]);
        return lockError(path, pos.line, pos.col, message);
      }
    }
    return lockError(path, undefined, undefined, message);
  };
  return checkLock(doc, at);
}

function lockError(path: string, line: number | undefined, col: number | undefined, message: string): UserError {
  const where = line === undefined ? path : `${path}:${line}${col === undefined ? '' : `:${col}`}`;
  return new UserError('bad-lock-file', `${where}: ${message} (the lock file is written by \`polypersona run\`; delete it to start afresh)`, {
    location: { file: path, line, column: col },
  });
}

type At = (path: Array<string | number>, message: string) => UserError;

function checkLock(doc: Document, at: At): PipelineLock {
  if (!yaml().isMap(doc.contents)) throw at([], 'expected a mapping with version, pipeline and stages');
  const raw = doc.toJS() as Record<string, unknown>;
  if (raw.version !== 1 && raw.version !== LOCK_VERSION) throw at(['version'], `version must be 1 or ${LOCK_VERSION}, got ${JSON.stringify(raw.version)} (a lock file written by a newer polypersona? upgrade, or delete it to start afresh)`);
  if (typeof raw.pipeline !== 'string') throw at(['pipeline'], 'pipeline must be a string (the pipeline name)');
  if (!isPlainObject(raw.stages)) throw at(['stages'], 'stages must be a mapping of stage id to locked stage');
  const stages: Record<string, LockedStage> = {};
  for (const [id, value] of Object.entries(raw.stages)) stages[id] = checkStage(id, value, at);
  return { version: raw.version, pipeline: raw.pipeline, stages };
}

function checkStage(id: string, value: unknown, at: At): LockedStage {
  const p = (field?: string): Array<string | number> => (field ? ['stages', id, field] : ['stages', id]);
  if (!isPlainObject(value)) throw at(p(), `stage ${id}: expected a mapping`);
  const s = value;
  if (typeof s.type !== 'string') throw at(p('type'), `stage ${id}: type must be a string`);
  if (!Number.isInteger(s.version)) throw at(p('version'), `stage ${id}: version must be an integer`);
  if (!isStageKey(s.key)) throw at(p('key'), `stage ${id}: key must be 64 hex characters`);
  if (!('params' in s)) throw at(p(), `stage ${id}: params is missing`);
  for (const field of ['inputs', 'deps'] as const) {
    const m = s[field];
    if (!isPlainObject(m) || !Object.values(m).every((v) => typeof v === 'string')) {
      throw at(p(field), `stage ${id}: ${field} must map names to digest strings`);
    }
  }
  const inputs = s.inputs as Record<string, string>;
  for (const [name, digest] of Object.entries(inputs)) {
    if (!isOutputDigest(digest)) throw at([...p('inputs'), name], `stage ${id}: inputs.${name} must be an output digest (64 hex characters)`);
  }
  const o = s.outputs;
  if (!isPlainObject(o) || typeof o.digest !== 'string' || !Number.isInteger(o.files) || !Number.isInteger(o.bytes)) {
    throw at(p('outputs'), `stage ${id}: outputs must hold digest (string), files and bytes (integers)`);
  }
  if (!isOutputDigest(o.digest)) throw at([...p('outputs'), 'digest'], `stage ${id}: outputs.digest must be an output digest (64 hex characters)`);
  let check: StageCheck | undefined;
  if (s.check !== undefined) {
    const c = s.check;
    if (!isPlainObject(c) || !isPlainObject(c.files) || !Object.values(c.files).every((v) => typeof v === 'string')) {
      throw at(p('check'), `stage ${id}: check must hold files (output path to sha256)`);
    }
    for (const field of ['tensors', 'predictions', 'metrics'] as const) {
      if (c[field] !== undefined && !isPlainObject(c[field])) throw at([...p('check'), field], `stage ${id}: check.${field} must be a mapping of output path to its summary`);
    }
    check = c as unknown as StageCheck;
  }
  return {
    type: s.type,
    version: s.version as number,
    key: s.key,
    params: s.params,
    inputs: inputs as Record<string, OutputDigest>,
    deps: s.deps as Record<string, string>,
    outputs: { digest: o.digest, files: o.files as number, bytes: o.bytes as number },
    ...(check ? { check } : {}),
  };
}

/** The check data of a published entry: its files' sha256 and its summaries. */
export function stageCheckOf(record: Pick<StageRecord, 'files' | 'summaries'>): StageCheck {
  const files: Record<string, string> = {};
  for (const f of record.files) files[f.path] = f.sha256;
  return { files, ...(record.summaries ?? {}) };
}

/** The lock file entry of a published cache entry (file count and bytes from its stage.json). */
export function lockedStageOf(entry: CacheEntry): LockedStage {
  const r = entry.record;
  return {
    type: r.type,
    version: r.version,
    key: r.key,
    params: r.params,
    inputs: r.inputs,
    deps: r.deps,
    outputs: { digest: r.outputDigest, files: r.files.length, bytes: r.files.reduce((sum, f) => sum + f.size, 0) },
    check: stageCheckOf(r),
  };
}

/**
 * Whether two locks hold the same data (what util.isDeepStrictEqual answers for these JSON
 * values: member order ignored, array order not), without its cost on a 1,000-stage lock.
 */
export function sameLock(a: PipelineLock, b: PipelineLock): boolean {
  return jsonEqual(a, b);
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    if (a.length !== bs.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], bs[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  if (keys.length !== Object.keys(bo).length) return false;
  for (const k of keys) if (!Object.prototype.hasOwnProperty.call(bo, k) || !jsonEqual(ao[k], bo[k])) return false;
  return true;
}

/** Writes the lock file atomically; the same lock always gives the same bytes. */
export function writePipelineLock(path: string, lock: PipelineLock, options: LockReadOptions = {}): void {
  const stages: Record<string, unknown> = {};
  for (const [id, s] of Object.entries(lock.stages)) {
    stages[id] = {
      type: s.type,
      version: s.version,
      key: s.key,
      params: sortKeysDeep(s.params),
      inputs: sortKeysDeep(s.inputs),
      deps: sortKeysDeep(s.deps),
      outputs: { digest: s.outputs.digest, files: s.outputs.files, bytes: s.outputs.bytes },
      ...(s.check ? { check: sortKeysDeep(s.check) } : {}),
    };
  }
  const header =
    `# polypersona lock file for pipeline "${lock.pipeline}": per stage, its key, params (defaults left out), inputs, deps, output digest and check data.\n` +
    '# Written by `polypersona run`; commit it. `polypersona verify` re-runs every stage and compares: identical, within tolerance or different (docs/reproducibility.md).\n';
  const body = yaml().stringify({ version: LOCK_VERSION, pipeline: lock.pipeline, stages }, { lineWidth: 0, aliasDuplicateObjects: false });
  const text = header + body;
  writeFileAtomic(path, text);
  if (options.parsedCacheDir) {
    // Stored as the reader would parse it, so the next read skips the YAML parser. A lock that does
    // not check out is left for readPipelineLock to report, where it names the line.
    let parsed: PipelineLock | undefined;
    try {
      parsed = parseLockText(path, text);
    } catch {
      parsed = undefined;
    }
    if (parsed) writeFileAtomic(join(options.parsedCacheDir, `${sha256Hex(text)}.json`), JSON.stringify(parsed));
  }
}

function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) if (value[k] !== undefined) out[k] = sortKeysDeep(value[k]);
    return out;
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
