/**
 * The artifact cache, content-addressed by stage key:
 *
 *   runs/cache/<key[0:2]>/<key>/out/         the stage's outputs (read-only by convention)
 *   runs/cache/<key[0:2]>/<key>/stage.json   StageRecord (provenance, output digest, file list)
 *   runs/cache/<key[0:2]>/<key>.lock         writer lock (key-lock.ts)
 *   runs/cache/.staging/<host>-<pid>-<rand>/ entries being built, and entries being deleted
 *   runs/work/<key>/                         resumable scratch (checkpoints), kept across crashes
 *
 * Atomicity: an entry is built in a staging dir (out/ + stage.json), every file and directory in
 * it is fsynced, then the whole staging dir is renamed onto `<key>/` in one rename(2). A crash or
 * kill -9 at any point leaves either no entry dir or a complete one; leftovers stay in .staging/
 * until sweepStaging(). Removal is the reverse: rename the entry into .staging/ first (it vanishes
 * in one step), then delete it. An entry dir is complete iff it holds a stage.json.
 *
 * With a `cacheDir` (the pipeline's `cache_dir:`, or POLYPERSONA_CACHE_DIR) the cache moves there,
 * work dirs with it (`<cacheDir>/.work/<key>/`: a cluster job resumes from checkpoints written on
 * another node); runs/ keeps history and index. On NFS the same protocol holds: staging dirs sit
 * inside the cache dir (so the publishing rename never crosses filesystems), a rename is one
 * server operation, and a retransmitted rename that reports ENOENT after it succeeded is told
 * apart by looking for the entry (see publish). docs/cluster.md states the whole protocol.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../../core/atomic.js';
import { InternalError, StageFailure, UserError } from '../../core/errors.js';
import { digestOutputs, isStageKey, MalformedFingerprintError, type OutputDigest, type StageKey } from './fingerprint.js';
import { summariseOutputs } from './output-summary.js';
import { isOrphanedName, ownedName } from './owner.js';
import { checkStageRecord, type StageRecord, type StageRecordDraft } from './record.js';

/** An entry whose stage.json is unreadable or whose outputs no longer match their digest (exit code 1: the entry, not the user's input, is bad). */
export class CacheCorruptError extends StageFailure {
  readonly key: StageKey;
  readonly dir: string;
  constructor(key: StageKey, dir: string, why: string) {
    super('cache-corrupt', `cache entry ${dir} is corrupt: ${why}; remove it (polypersona gc, or delete the folder) and run again`, {
      location: { file: dir },
    });
    this.key = key;
    this.dir = dir;
  }
}

export interface CacheEntry {
  key: StageKey;
  /** runs/cache/<key[0:2]>/<key> */
  dir: string;
  /** dir/out: the stage's published outputs. */
  outDir: string;
  record: StageRecord;
}

export interface Staging {
  key: StageKey;
  /** The staging dir that becomes the entry dir. */
  dir: string;
  /** dir/out, empty: the stage writes its outputs here. */
  outDir: string;
  /** Deletes the staging dir (after a failed or cancelled run). Idempotent. */
  discard(): Promise<void>;
}

const RECORD_FILE = 'stage.json';

export class ArtifactStore {
  readonly runsDir: string;
  readonly cacheDir: string;
  readonly stagingDir: string;

  /** Where resumable work dirs live: runs/work, or <cacheDir>/.work with a cache dir of its own. */
  readonly workRoot: string;

  constructor(runsDir: string, layout: { cacheDir?: string; workRoot?: string } = {}) {
    this.runsDir = runsDir;
    this.cacheDir = layout.cacheDir ?? join(runsDir, 'cache');
    this.stagingDir = join(this.cacheDir, '.staging');
    this.workRoot = layout.workRoot ?? (layout.cacheDir === undefined ? join(runsDir, 'work') : join(layout.cacheDir, '.work'));
  }

  entryDir(key: StageKey): string {
    checkKey(key);
    return join(this.cacheDir, key.slice(0, 2), key);
  }

  /** The writer lock file of a key (see key-lock.ts). */
  lockPath(key: StageKey): string {
    checkKey(key);
    return join(this.cacheDir, key.slice(0, 2), `${key}.lock`);
  }

  /**
   * The complete entry for `key`, or undefined when there is none. Throws CacheCorruptError when
   * the entry exists but its stage.json is unreadable or names another key, or (with `verify`)
   * when its outputs no longer hash to the recorded digest.
   */
  async lookup(key: StageKey, opts: { verify?: boolean } = {}): Promise<CacheEntry | undefined> {
    const dir = this.entryDir(key);
    let text: string;
    try {
      // Synchronous on purpose: one small file; a no-op run looks up every stage, and the
      // promise API's open/stat/read/close round trips through the thread pool cost more.
      text = readFileSync(join(dir, RECORD_FILE), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    let record: StageRecord;
    try {
      record = checkStageRecord(JSON.parse(text));
    } catch (err) {
      throw new CacheCorruptError(key, dir, `${RECORD_FILE} is unreadable (${(err as Error).message})`);
    }
    if (record.key !== key) throw new CacheCorruptError(key, dir, `${RECORD_FILE} names key ${record.key}`);
    const entry: CacheEntry = { key, dir, outDir: join(dir, 'out'), record };
    if (opts.verify) {
      const v = await verifyEntry(entry);
      if (!v.ok) throw new CacheCorruptError(key, dir, `outputs hash to ${v.actual}, stage.json says ${v.expected}`);
    }
    return entry;
  }

  /** A fresh staging dir for building the entry of `key`; its outDir exists and is empty. */
  async stage(key: StageKey): Promise<Staging> {
    checkKey(key);
    const dir = join(this.stagingDir, ownedName());
    const outDir = join(dir, 'out');
    await mkdir(outDir, { recursive: true });
    return { key, dir, outDir, discard: () => rm(dir, { recursive: true, force: true }) };
  }

  /**
   * Digests staging.outDir, writes stage.json, fsyncs everything and renames the staging dir
   * into place. When a complete entry for the key already exists (another run won the race),
   * that entry is kept and returned and the staging dir is discarded.
   */
  async publish(staging: Staging, draft: StageRecordDraft): Promise<CacheEntry> {
    if (draft.key !== staging.key) throw new InternalError(`publish: record key ${draft.key} does not match staging key ${staging.key}`);
    const key = staging.key;
    const tree = await digestOutputs(staging.outDir);
    const summaries = await summariseOutputs(staging.outDir, tree.files);
    const record: StageRecord = { ...draft, outputDigest: tree.digest, files: tree.files, ...(summaries ? { summaries } : {}) };
    await writeFile(join(staging.dir, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
    await fsyncTree(staging.dir);

    const dir = this.entryDir(key);
    const parent = join(this.cacheDir, key.slice(0, 2));
    if (!existsSync(parent)) {
      mkdirSync(parent, { recursive: true });
      fsyncDir(this.cacheDir);
    }
    for (let attempt = 0; ; attempt++) {
      const existing = await this.lookup(key);
      if (existing) {
        await staging.discard();
        return existing;
      }
      try {
        await rename(staging.dir, dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // NFS: a rename whose reply was lost is retransmitted and then fails with ENOENT although
        // the first one moved the dir; the entry is then in place (next pass returns it).
        if (code === 'ENOENT' && attempt === 0 && !existsSync(staging.dir) && (await this.lookup(key))) continue;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt > 0) throw err;
        // A dir without stage.json is in the way (not one of ours; a hand-made copy?). If a
        // racing publisher completed it meanwhile, lookup() on the next pass returns it.
        if (!(await this.lookup(key))) await this.removeDir(dir);
      }
    }
    fsyncDir(parent);
    fsyncDir(this.stagingDir);
    return { key, dir, outDir: join(dir, 'out'), record };
  }

  /** Removes an entry: it disappears in one rename, then is deleted. Missing keys are fine. */
  async remove(key: StageKey): Promise<void> {
    await this.removeDir(this.entryDir(key));
  }

  private async removeDir(dir: string): Promise<void> {
    await mkdir(this.stagingDir, { recursive: true });
    const trash = join(this.stagingDir, ownedName());
    try {
      await rename(dir, trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await rm(trash, { recursive: true, force: true });
  }

  /** Keys of every entry dir in the cache, complete or not (gc removes both kinds). */
  async listKeys(): Promise<StageKey[]> {
    const keys: StageKey[] = [];
    for (const shard of await readdirOrEmpty(this.cacheDir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const name of await readdirOrEmpty(join(this.cacheDir, shard))) {
        if (isStageKey(name) && name.startsWith(shard)) keys.push(name);
      }
    }
    return keys.sort();
  }

  /** Every complete, readable entry, sorted by key. Corrupt ones are left out (verify finds them). */
  async list(): Promise<CacheEntry[]> {
    const entries: CacheEntry[] = [];
    for (const key of await this.listKeys()) {
      try {
        const e = await this.lookup(key);
        if (e) entries.push(e);
      } catch (err) {
        if (!(err instanceof CacheCorruptError)) throw err;
      }
    }
    return entries;
  }

  /** Scratch dir for `key` under workRoot (created on demand); survives crashes so a rerun can resume. */
  workDir(key: StageKey): string {
    checkKey(key);
    const dir = join(this.workRoot, key);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  async clearWork(key: StageKey): Promise<void> {
    checkKey(key);
    await rm(join(this.workRoot, key), { recursive: true, force: true });
  }

  /** Deletes staging dirs whose owning process (on this host) is gone; returns how many. */
  async sweepStaging(): Promise<number> {
    let removed = 0;
    for (const name of await readdirOrEmpty(this.stagingDir)) {
      if (!isOrphanedName(name)) continue;
      await rm(join(this.stagingDir, name), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }
}

/** What the outputs hash to now, or why they cannot be hashed (a file removed, a symlink added). */
export type CurrentDigest = OutputDigest | `unreadable (${string})`;

/** Recomputes the entry's output digest and compares it with its stage.json. */
export async function verifyEntry(entry: CacheEntry): Promise<{ ok: boolean; expected: OutputDigest; actual: CurrentDigest }> {
  const expected = entry.record.outputDigest;
  let actual: CurrentDigest;
  try {
    actual = (await digestOutputs(entry.outDir)).digest;
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    actual = `unreadable (${err.message})`;
  }
  return { ok: actual === expected, expected, actual };
}

/** A run-time check behind the type: a key cast from elsewhere still never names a path outside the cache. */
function checkKey(key: StageKey): void {
  if (!isStageKey(key)) throw new MalformedFingerprintError(key, 'stage key');
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * fsyncs every file under `root`, then every directory bottom-up. Files are synced several at a
 * time: the filesystem batches concurrent syncs into fewer journal commits.
 */
async function fsyncTree(root: string): Promise<void> {
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files.push(p);
    }
    dirs.push(dir); // after its children: bottom-up
  };
  await walk(root);
  let cursor = 0;
  const worker = async (): Promise<void> => {
    while (cursor < files.length) {
      const h = await open(files[cursor++]!, 'r');
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, files.length) }, worker));
  for (const d of dirs) fsyncDir(d);
}

/** Total bytes of regular files under `dir` (for gc reports). */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}
