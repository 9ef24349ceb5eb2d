/**
 * Run records: every `run` writes `runs/history/<pipeline>/<timestamp>-<id>.json` (stages, keys,
 * cache hits, durations), so two runs can be compared later and gc can keep what recent runs used.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { DataError } from '../../core/errors.js';
import { readJsonFile } from '../../core/files.js';
import { isOutputDigest, isStageKey, type OutputDigest, type StageKey } from './fingerprint.js';

/** How one stage of a run ended (run records and the run's event stream both use it). */
export type StageOutcome = 'cached' | 'ran' | 'failed' | 'skipped' | 'cancelled';

export interface RunRecord {
  id: string;
  pipeline: string;
  /** The pipeline file, as given. */
  file: string;
  startedAt: string;
  finishedAt: string;
  status: 'ok' | 'failed' | 'cancelled';
  argv: string[];
  /**
   * `run -S` overrides by full path (`params.seed`, `stages.adapter.with.learning_rate`) with the
   * values used; absent when the pipeline ran as written. Run comparisons show these as what changed.
   */
  overrides?: Record<string, unknown>;
  /**
   * Added by the CLI after the run: per stage that produces scores, its metrics.json's
   * `overall`, `by_domain` and `by_question_type` (metric → value).
   */
  metrics?: Record<string, { overall: unknown; by_domain?: unknown; by_question_type?: unknown }>;
  stages: Array<{
    id: string;
    type: string;
    /** Empty for a stage skipped before its key was known. */
    key: StageKey | '';
    outcome: StageOutcome;
    durationMs: number;
    outputDigest?: OutputDigest;
    error?: string;
  }>;
}

/** Folder name for a pipeline: its name with anything outside [A-Za-z0-9._-] replaced by `_`. */
export function historyDirName(pipeline: string): string {
  const safe = pipeline.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === '' || safe === '.' || safe === '..' ? `_${safe}` : safe;
}

/** Writes the record atomically; returns its path. */
export function writeRunRecord(runsDir: string, record: RunRecord): string {
  // 2026-11-25T22:13:05.123Z -> 20261125T221305.123Z: sorts by time, no ':' (not allowed on Windows).
  const stamp = record.startedAt.replace(/[-:]/g, '');
  const id = record.id.replace(/[^A-Za-z0-9_-]/g, '_');
  const path = join(runsDir, 'history', historyDirName(record.pipeline), `${stamp}-${id}.json`);
  writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}

/** Run records, newest first (by startedAt), of one pipeline or of all. A malformed record is a DataError naming it. */
export function listRunRecords(runsDir: string, pipeline?: string): RunRecord[] {
  const root = join(runsDir, 'history');
  if (!existsSync(root)) return [];
  const dirs = pipeline === undefined ? readdirSync(root) : [historyDirName(pipeline)];
  const records: RunRecord[] = [];
  for (const d of dirs) {
    const dir = join(root, d);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      const record = readRunRecord(join(dir, name));
      if (pipeline === undefined || record.pipeline === pipeline) records.push(record);
    }
  }
  const desc = (a: string, b: string): number => (a < b ? 1 : a > b ? -1 : 0);
  return records.sort((a, b) => desc(a.startedAt, b.startedAt) || desc(a.id, b.id));
}

function readRunRecord(path: string): RunRecord {
  let value: unknown;
  try {
    value = readJsonFile(path, 'the run record');
  } catch (err) {
    throw new DataError('bad-run-record', `${(err as Error).message}; delete the file`, { cause: err, location: { file: path } });
  }
  const r = value as Partial<RunRecord>;
  if (typeof r !== 'object' || r === null || typeof r.id !== 'string' || typeof r.pipeline !== 'string' || typeof r.startedAt !== 'string' || !Array.isArray(r.stages)) {
    throw new DataError('bad-run-record', `${path}: not a run record (needs id, pipeline, startedAt, stages); delete the file`, { location: { file: path } });
  }
  r.stages.forEach((s, i) => {
    if (typeof s?.key !== 'string' || typeof s?.id !== 'string') {
      throw new DataError('bad-run-record', `${path}: stages[${i}] needs id and key; delete the file`, { location: { file: path } });
    }
    if ((s.key !== '' && !isStageKey(s.key)) || (s.outputDigest !== undefined && !isOutputDigest(s.outputDigest))) {
      throw new DataError('bad-run-record', `${path}: stages[${i}]: key and outputDigest must be 64 lowercase hex characters; delete the file`, { location: { file: path } });
    }
  });
  return r as RunRecord;
}
