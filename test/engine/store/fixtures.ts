/** Shared builders for store tests: a temp runs dir and a complete stage record draft. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentInfo, stageKey, type StageKey, type StageRecordDraft } from '../../../src/engine/store/index.js';

export function tempRunsDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'pp-store-')), 'runs');
}

export function keyFor(n: number): StageKey {
  return stageKey({ type: 'test', version: 1, params: { n }, inputs: {}, deps: {} });
}

export function draftFor(key: StageKey, extra: Partial<StageRecordDraft> = {}): StageRecordDraft {
  return {
    key,
    stageId: 'stage',
    pipeline: 'test',
    type: 'test',
    version: 1,
    params: { n: 1 },
    inputs: {},
    deps: {},
    seed: 7,
    threads: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    durationMs: 1000,
    environment: environmentInfo(),
    provenance: {},
    ...extra,
  };
}
