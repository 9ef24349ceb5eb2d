import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors.js';
import {
  acquireKeyLock,
  ArtifactStore,
  collectReferencedKeys,
  garbageCollect,
  listRunRecords,
  writePipelineLock,
  writeRunRecord,
  type RunRecord,
} from '../../../src/engine/store/index.js';
import { testDigest } from '../../helpers/fingerprints.js';
import { draftFor, keyFor, tempRunsDir } from './fixtures.js';

let runsDir: string;
let store: ArtifactStore;
beforeEach(() => {
  runsDir = tempRunsDir();
  store = new ArtifactStore(runsDir);
});
afterEach(() => rmSync(dirname(runsDir), { recursive: true, force: true }));

function run(id: string, pipeline: string, startedAt: string, stages: Array<[number, RunRecord['stages'][number]['outcome']]>): RunRecord {
  return {
    id,
    pipeline,
    file: `pipelines/${pipeline}.yaml`,
    startedAt,
    finishedAt: startedAt,
    status: 'ok',
    argv: ['run'],
    stages: stages.map(([n, outcome]) => ({ id: `s${n}`, type: 'test', key: keyFor(n), outcome, durationMs: 1 })),
  };
}

async function publish(n: number, bytes: number): Promise<void> {
  const s = await store.stage(keyFor(n));
  writeFileSync(join(s.outDir, 'data.bin'), Buffer.alloc(bytes, n));
  await store.publish(s, draftFor(keyFor(n)));
}

describe('run history', () => {
  it('writes runs/history/<pipeline>/<timestamp>-<id>.json and lists newest first', () => {
    const p1 = writeRunRecord(runsDir, run('r1', 'smoke', '2026-11-25T10:00:00.000Z', [[1, 'ran']]));
    writeRunRecord(runsDir, run('r3', 'smoke', '2026-11-25T12:00:00.000Z', [[1, 'cached']]));
    writeRunRecord(runsDir, run('r2', 'paper', '2026-11-25T11:00:00.000Z', [[2, 'ran']]));
    expect(p1).toBe(join(runsDir, 'history', 'smoke', '20261125T100000.000Z-r1.json'));
    expect(listRunRecords(runsDir).map((r) => r.id)).toEqual(['r3', 'r2', 'r1']);
    expect(listRunRecords(runsDir, 'smoke').map((r) => r.id)).toEqual(['r3', 'r1']);
    expect(listRunRecords(runsDir, 'none')).toEqual([]);
    expect(listRunRecords(runsDir, 'smoke')[1]).toEqual(run('r1', 'smoke', '2026-11-25T10:00:00.000Z', [[1, 'ran']]));
  });

  it('keeps odd pipeline names inside the history folder', () => {
    const p = writeRunRecord(runsDir, run('x', '../../evil name', '2026-11-25T10:00:00.000Z', []));
    expect(dirname(p)).toBe(join(runsDir, 'history', '.._.._evil_name'));
    expect(listRunRecords(runsDir, '../../evil name').map((r) => r.id)).toEqual(['x']);
  });

  it('names a malformed record', () => {
    mkdirSync(join(runsDir, 'history', 'smoke'), { recursive: true });
    const bad = join(runsDir, 'history', 'smoke', 'bad.json');
    writeFileSync(bad, '{"id": 1}');
    expect(() => listRunRecords(runsDir)).toThrow(DataError);
    expect(() => listRunRecords(runsDir)).toThrow(/bad\.json: not a run record/);
    writeFileSync(bad, '{');
    expect(() => listRunRecords(runsDir)).toThrow(/bad\.json: not valid JSON/);
    // Keys and digests are checked as they are read back; a stage skipped before its key was known has key "".
    const record = run('x', 'smoke', '2026-11-25T10:00:00.000Z', [[1, 'ran'], [2, 'skipped']]);
    record.stages[1]!.key = '';
    writeFileSync(bad, JSON.stringify(record));
    expect(listRunRecords(runsDir).map((r) => r.stages.map((s) => s.key))).toEqual([[keyFor(1), '']]);
    writeFileSync(bad, JSON.stringify({ ...record, stages: [{ ...record.stages[0], key: 'abc' }] }));
    expect(() => listRunRecords(runsDir)).toThrow(/bad\.json: stages\[0\]: key and outputDigest must be 64 lowercase hex characters/);
    writeFileSync(bad, JSON.stringify({ ...record, stages: [{ ...record.stages[0], outputDigest: keyFor(1).toUpperCase() }] }));
    expect(() => listRunRecords(runsDir)).toThrow(expect.objectContaining({ code: 'bad-run-record' }));
  });
});

describe('gc', () => {
  it('collects keys from lock files and the last N runs of each pipeline', () => {
    const lockFile = join(dirname(runsDir), 'smoke.lock.yaml');
    writePipelineLock(lockFile, {
      version: 1,
      pipeline: 'smoke',
      stages: { a: { type: 'test', version: 1, key: keyFor(1), params: {}, inputs: {}, deps: {}, outputs: { digest: testDigest('d'), files: 0, bytes: 0 } } },
    });
    writeRunRecord(runsDir, run('old', 'smoke', '2026-11-25T10:00:00.000Z', [[2, 'ran']]));
    writeRunRecord(runsDir, run('new', 'smoke', '2026-11-25T11:00:00.000Z', [[3, 'ran'], [4, 'failed'], [5, 'cached']]));
    writeRunRecord(runsDir, run('p', 'paper', '2026-11-25T09:00:00.000Z', [[6, 'cached']]));
    const keep = collectReferencedKeys(runsDir, [lockFile, join(dirname(runsDir), 'missing.lock.yaml')], 1);
    expect([...keep].sort()).toEqual([keyFor(1), keyFor(3), keyFor(5), keyFor(6)].sort());
    expect(collectReferencedKeys(runsDir, [], 2).has(keyFor(2))).toBe(true);
    expect(collectReferencedKeys(runsDir, [], 0).size).toBe(0);
  });

  it('removes unreferenced entries, keeps referenced and locked ones; dry-run removes nothing', async () => {
    for (const n of [1, 2, 3, 4]) await publish(n, 1000 * n);
    // An incomplete entry dir (no stage.json) is garbage too.
    mkdirSync(join(store.entryDir(keyFor(5)), 'out'), { recursive: true });
    writeFileSync(join(store.entryDir(keyFor(5)), 'out', 'half'), 'x'.repeat(10));
    const lock = await acquireKeyLock(store, keyFor(4), { wait: false }); // a live writer holds 4
    const keep = new Set([keyFor(1)]);

    const dry = await garbageCollect(store, keep, { dryRun: true });
    const expected = [
      { key: keyFor(2), bytes: 2000 },
      { key: keyFor(3), bytes: 3000 },
      { key: keyFor(5), bytes: 10 },
    ].sort((a, b) => (a.key < b.key ? -1 : 1));
    // bytes include stage.json for complete entries
    expect(dry.removed.map((r) => r.key)).toEqual(expected.map((r) => r.key));
    for (const r of dry.removed) expect(r.bytes).toBeGreaterThanOrEqual(expected.find((e) => e.key === r.key)!.bytes);
    expect(dry.kept).toBe(2);
    expect(dry.freedBytes).toBe(dry.removed.reduce((s, r) => s + r.bytes, 0));
    expect((await store.listKeys()).length).toBe(5);

    const real = await garbageCollect(store, keep, { dryRun: false });
    expect(real).toEqual(dry);
    expect(await store.listKeys()).toEqual([keyFor(1), keyFor(4)].sort());
    expect(await store.lookup(keyFor(1), { verify: true })).toBeDefined();
    lock.release();

    // Once the writer is gone, 4 goes too.
    const after = await garbageCollect(store, keep, { dryRun: false });
    expect(after.removed.map((r) => r.key)).toEqual([keyFor(4)]);
    expect(readdirSync(join(runsDir, 'cache', '.staging'))).toEqual([]);
  });

  it('empties the parse caches under runs/index (dry-run only counts them)', async () => {
    const dirs = ['pipelines', 'locks'].map((d) => join(runsDir, 'index', d));
    for (const d of dirs) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, `${'a'.repeat(64)}.json`), '{}');
    }
    writeFileSync(join(dirs[0]!, `${'a'.repeat(64)}.params.json`), '{}');
    expect((await garbageCollect(store, new Set(), { dryRun: true })).indexFiles).toBe(3);
    expect(dirs.map((d) => readdirSync(d).length)).toEqual([2, 1]);
    expect((await garbageCollect(store, new Set(), { dryRun: false })).indexFiles).toBe(3);
    expect(dirs.map((d) => readdirSync(d).length)).toEqual([0, 0]);
  });

  it('keeps an entry whose lock is held from another host', async () => {
    await publish(7, 10);
    writeFileSync(store.lockPath(keyFor(7)), JSON.stringify({ pid: 1, hostname: `not-${hostname()}`, startedAt: 'x' }));
    const r = await garbageCollect(store, new Set(), { dryRun: false });
    expect(r.removed).toEqual([]);
    expect(r.kept).toBe(1);
  });
});
