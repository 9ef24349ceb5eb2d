import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolypersonaError } from '../../../src/core/errors.js';
import { ArtifactStore, CacheCorruptError, digestTree, verifyEntry, type StageKey } from '../../../src/engine/store/index.js';
import { draftFor, keyFor, tempRunsDir } from './fixtures.js';

let runsDir: string;
let store: ArtifactStore;
beforeEach(() => {
  runsDir = tempRunsDir();
  store = new ArtifactStore(runsDir);
});
afterEach(() => rmSync(dirname(runsDir), { recursive: true, force: true }));

async function publishWith(key: StageKey, files: Record<string, string>) {
  const staging = await store.stage(key);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(staging.outDir, rel)), { recursive: true });
    writeFileSync(join(staging.outDir, rel), text);
  }
  return store.publish(staging, draftFor(key, { provenance: { note: 'hi' } }));
}

describe('ArtifactStore', () => {
  it('lays entries out as runs/cache/<key[0:2]>/<key>', () => {
    const key = keyFor(1);
    expect(store.entryDir(key)).toBe(join(runsDir, 'cache', key.slice(0, 2), key));
    expect(store.lockPath(key)).toBe(join(runsDir, 'cache', key.slice(0, 2), `${key}.lock`));
  });

  it('rejects a non-key (no path tricks)', () => {
    expect(() => store.entryDir('../../etc' as StageKey)).toThrow(/not a stage key/);
  });

  it('publishes an entry with its stage.json and finds it again', async () => {
    const key = keyFor(1);
    expect(await store.lookup(key)).toBeUndefined();
    const staging = await store.stage(key);
    expect(readdirSync(staging.outDir)).toEqual([]);
    await staging.discard();
    const entry = await publishWith(key, { 'a.txt': 'alpha', 'sub/b.txt': 'beta' });
    expect(entry.dir).toBe(store.entryDir(key));
    expect(readFileSync(join(entry.outDir, 'sub/b.txt'), 'utf8')).toBe('beta');
    const tree = await digestTree(entry.outDir);
    expect(entry.record.outputDigest).toBe(tree.digest);
    expect(entry.record.files).toEqual(tree.files);
    expect(entry.record.provenance).toEqual({ note: 'hi' });

    const found = await store.lookup(key, { verify: true });
    expect(found?.record).toEqual(entry.record);
    const onDisk = JSON.parse(readFileSync(join(entry.dir, 'stage.json'), 'utf8'));
    expect(onDisk.outputDigest).toBe(tree.digest);
    expect(onDisk.environment.node).toBe(process.versions.node);
    // staging is gone once published
    expect(readdirSync(join(runsDir, 'cache', '.staging'))).toEqual([]);
  });

  it('keeps the existing entry when a second publish of the same key comes in', async () => {
    const key = keyFor(2);
    const first = await publishWith(key, { 'x.txt': 'first' });
    const second = await publishWith(key, { 'x.txt': 'second' });
    expect(second.record.outputDigest).toBe(first.record.outputDigest);
    expect(readFileSync(join(second.outDir, 'x.txt'), 'utf8')).toBe('first');
    expect(readdirSync(join(runsDir, 'cache', '.staging'))).toEqual([]);
  });

  it('refuses a record whose key differs from the staging key', async () => {
    const staging = await store.stage(keyFor(3));
    await expect(store.publish(staging, draftFor(keyFor(4)))).rejects.toThrow(/does not match/);
  });

  it('does not count an entry dir without stage.json as complete', async () => {
    const key = keyFor(5);
    mkdirSync(join(store.entryDir(key), 'out'), { recursive: true });
    expect(await store.lookup(key)).toBeUndefined();
    expect(await store.list()).toEqual([]);
    // ...and a publish replaces it
    const entry = await publishWith(key, { 'y.txt': 'y' });
    expect((await store.lookup(key))?.record.outputDigest).toBe(entry.record.outputDigest);
  });

  it('detects a corrupt entry with verify', async () => {
    const key = keyFor(6);
    const entry = await publishWith(key, { 'data.jsonl': '{"a":1}\n' });
    expect((await verifyEntry(entry)).ok).toBe(true);
    writeFileSync(join(entry.outDir, 'data.jsonl'), '{"a":2}\n');
    const v = await verifyEntry(entry);
    expect(v).toMatchObject({ ok: false, expected: entry.record.outputDigest });
    expect(v.actual).not.toBe(v.expected);
    // a plain lookup does not hash; a verifying lookup throws
    expect(await store.lookup(key)).toBeDefined();
    const err = await store.lookup(key, { verify: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CacheCorruptError);
    expect((err as PolypersonaError).code).toBe('cache-corrupt');
    expect((err as Error).message).toContain(entry.dir);

    // an added file and a deleted file are caught too
    writeFileSync(join(entry.outDir, 'data.jsonl'), '{"a":1}\n');
    writeFileSync(join(entry.outDir, 'extra'), '');
    expect((await verifyEntry(entry)).ok).toBe(false);
    rmSync(join(entry.outDir, 'extra'));
    expect((await verifyEntry(entry)).ok).toBe(true);
    rmSync(entry.outDir, { recursive: true });
    expect((await verifyEntry(entry)).ok).toBe(false);
  });

  it('reports a malformed stage.json as corrupt', async () => {
    const key = keyFor(7);
    const entry = await publishWith(key, { 'a': 'a' });
    writeFileSync(join(entry.dir, 'stage.json'), '{"key": "trunc');
    await expect(store.lookup(key)).rejects.toThrow(/stage\.json is unreadable/);
    writeFileSync(join(entry.dir, 'stage.json'), JSON.stringify({ ...entry.record, key: keyFor(8) }));
    await expect(store.lookup(key)).rejects.toThrow(/names key/);
    // A key or digest that is not 64 lowercase hex characters is caught where stage.json is read.
    writeFileSync(join(entry.dir, 'stage.json'), JSON.stringify({ ...entry.record, outputDigest: entry.record.outputDigest.toUpperCase() }));
    await expect(store.lookup(key)).rejects.toThrow(/stage\.json is unreadable \(field "outputDigest" is not an output digest \(64 lowercase hex characters\)\)/);
    writeFileSync(join(entry.dir, 'stage.json'), JSON.stringify({ ...entry.record, key: key.slice(1) }));
    await expect(store.lookup(key)).rejects.toThrow(CacheCorruptError);
    await expect(store.lookup(key)).rejects.toThrow(/field "key" is not a stage key/);
    writeFileSync(join(entry.dir, 'stage.json'), JSON.stringify({ ...entry.record, inputs: { up: 'd' } }));
    await expect(store.lookup(key)).rejects.toThrow(/field "inputs" must map stage ids to output digests/);
    expect(await store.list()).toEqual([]);
    expect(await store.listKeys()).toEqual([key]);
  });

  it('lists and removes entries', async () => {
    const keys = [keyFor(10), keyFor(11), keyFor(12)];
    for (const k of keys) await publishWith(k, { f: k });
    expect((await store.list()).map((e) => e.key)).toEqual([...keys].sort());
    await store.remove(keys[1]!);
    await store.remove(keys[1]!); // idempotent
    expect(existsSync(store.entryDir(keys[1]!))).toBe(false);
    expect((await store.list()).map((e) => e.key)).toEqual([keys[0]!, keys[2]!].sort());
  });

  it('discards a staging dir', async () => {
    const staging = await store.stage(keyFor(13));
    writeFileSync(join(staging.outDir, 'half'), 'x');
    await staging.discard();
    expect(existsSync(staging.dir)).toBe(false);
    await staging.discard();
  });

  it('gives a work dir per key that survives until cleared', async () => {
    const key = keyFor(14);
    const w = store.workDir(key);
    expect(w).toBe(join(runsDir, 'work', key));
    writeFileSync(join(w, 'checkpoint.bin'), 'step 10');
    expect(readFileSync(join(store.workDir(key), 'checkpoint.bin'), 'utf8')).toBe('step 10');
    await store.clearWork(key);
    expect(existsSync(w)).toBe(false);
  });

  it('sweeps only staging dirs whose owner is dead', async () => {
    const mine = await store.stage(keyFor(15));
    const stagingRoot = join(runsDir, 'cache', '.staging');
    const { HOST_TAG } = await import('../../../src/engine/store/owner.js');
    // pid 2^22+ is above Linux's pid_max default; a dead owner on this host
    const deadName = `${HOST_TAG}-4194999-abcdef`;
    mkdirSync(join(stagingRoot, deadName, 'out'), { recursive: true });
    // another host's dir and an unrecognised name are left alone
    mkdirSync(join(stagingRoot, `00000000-4194999-abcdef`), { recursive: true });
    mkdirSync(join(stagingRoot, 'not-ours'), { recursive: true });
    expect(await store.sweepStaging()).toBe(HOST_TAG === '00000000' ? 2 : 1);
    const left = readdirSync(stagingRoot).sort();
    expect(left).toContain(mine.dir.split('/').pop());
    expect(left).not.toContain(deadName);
  });
});
