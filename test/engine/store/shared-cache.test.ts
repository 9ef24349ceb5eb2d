import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireKeyLock, ArtifactStore } from '../../../src/engine/store/index.js';
import { createExclusive } from '../../../src/engine/store/key-lock.js';
import { draftFor, keyFor } from './fixtures.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'pp-shared-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('a cache dir of its own (cache_dir)', () => {
  it('holds entries, staging and work dirs; runs/ keeps only what is the project’s', async () => {
    const root = tempDir();
    const store = new ArtifactStore(join(root, 'runs'), { cacheDir: join(root, 'shared') });
    const key = keyFor(1);
    expect(store.workDir(key)).toBe(join(root, 'shared', '.work', key));
    const staging = await store.stage(key);
    expect(staging.dir.startsWith(join(root, 'shared', '.staging'))).toBe(true);
    writeFileSync(join(staging.outDir, 'x.txt'), 'x');
    const entry = await store.publish(staging, draftFor(key));
    expect(entry.dir).toBe(join(root, 'shared', key.slice(0, 2), key));
    expect((await store.lookup(key))!.record.outputDigest).toBe(entry.record.outputDigest);
    expect(store.lockPath(key)).toBe(join(root, 'shared', key.slice(0, 2), `${key}.lock`));
    expect(existsSync(join(root, 'runs', 'cache'))).toBe(false);
    // Two stores over the same shared dir (two machines) see one cache.
    const other = new ArtifactStore(join(root, 'elsewhere', 'runs'), { cacheDir: join(root, 'shared') });
    expect((await other.lookup(key))!.dir).toBe(entry.dir);
  });

  it('without one, the layout is runs/cache and runs/work as before', () => {
    const root = tempDir();
    const store = new ArtifactStore(join(root, 'runs'));
    expect(store.cacheDir).toBe(join(root, 'runs', 'cache'));
    expect(store.workRoot).toBe(join(root, 'runs', 'work'));
  });
});

describe('lock files made by link(2) (safe on NFS)', () => {
  it('createExclusive: the first caller wins, whole content at once, no sibling left behind', () => {
    const dir = tempDir();
    const path = join(dir, 'k.lock');
    expect(createExclusive(path, '{"pid":1}\n')).toBe(true);
    expect(createExclusive(path, '{"pid":2}\n')).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('{"pid":1}\n');
    expect(readdirSync(dir)).toEqual(['k.lock']);
  });

  it('a key lock is never seen empty or half-written, and is released cleanly', async () => {
    const root = tempDir();
    const store = new ArtifactStore(join(root, 'runs'));
    const key = keyFor(2);
    const lock = await acquireKeyLock(store, key, { wait: false });
    const holder = JSON.parse(readFileSync(store.lockPath(key), 'utf8')) as { pid: number };
    expect(holder.pid).toBe(process.pid);
    await expect(acquireKeyLock(store, key, { wait: false })).rejects.toThrow(/is being written by another run/);
    lock.release();
    expect(readdirSync(join(store.cacheDir, key.slice(0, 2)))).toEqual([]);
  });
});
