/**
 * kill -9 during publish/remove never leaves an entry that reads as complete and is not.
 * A child process publishes entries in a loop (20 small files + a 1 MiB one each, removing older
 * ones as it goes); the test SIGKILLs it at increasing delays, then checks every entry dir on disk.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ArtifactStore, isStageKey, verifyEntry, type StageKey } from '../../../src/engine/store/index.js';
import { tempRunsDir } from './fixtures.js';

const runsDir = tempRunsDir();
afterAll(() => rmSync(dirname(runsDir), { recursive: true, force: true }));

const CHILD = `
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const { ArtifactStore, stageKey, environmentInfo } = await import(process.env.STORE_URL);
const store = new ArtifactStore(process.env.RUNS_DIR);
const keyFor = (i) => stageKey({ type: 'crash', version: 1, params: { i }, inputs: {}, deps: {} });
process.stdout.write('ready\\n');
for (let i = 0; ; i++) {
  const key = keyFor(i % 12);
  const s = await store.stage(key);
  for (let f = 0; f < 20; f++) writeFileSync(join(s.outDir, 'f' + f + '.bin'), Buffer.alloc(32768 + f, i & 0xff));
  mkdirSync(join(s.outDir, 'sub'));
  writeFileSync(join(s.outDir, 'sub', 'big.bin'), Buffer.alloc(1 << 20, (i * 7) & 0xff));
  await store.publish(s, {
    key, stageId: 's' + i, pipeline: 'crash', type: 'crash', version: 1, params: { i: i % 12 }, inputs: {}, deps: {},
    seed: 1, threads: 1, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), durationMs: 0,
    environment: environmentInfo(), provenance: {},
  });
  if (i % 3 === 2) await store.remove(keyFor((i + 5) % 12));
  process.stdout.write('published ' + i + '\\n');
}
`;

/** Runs the child until `delayMs` after it is ready, then SIGKILLs it; returns how many it published. */
function runAndKill(script: string, delayMs: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: resolve('.'),
      env: { ...process.env, RUNS_DIR: runsDir, STORE_URL: pathToFileURL(resolve('src/engine/store/index.ts')).href },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (timer === undefined && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (code ${code}): ${err}`));
      else resolvePromise(out.split('\n').filter((l) => l.startsWith('published')).length);
    });
  });
}

/** Every entry dir on disk, whatever lookup() thinks of it. */
function entryDirsOnDisk(): StageKey[] {
  const cache = join(runsDir, 'cache');
  if (!existsSync(cache)) return [];
  return readdirSync(cache)
    .filter((s) => /^[0-9a-f]{2}$/.test(s))
    .flatMap((s) => readdirSync(join(cache, s)).filter(isStageKey));
}

describe('publish under SIGKILL', () => {
  it('never leaves a half entry that reads as complete, and sweepStaging cleans leftovers', async () => {
    const script = join(dirname(runsDir), 'publisher.mjs');
    writeFileSync(script, CHILD);
    const store = new ArtifactStore(runsDir);
    let totalPublished = 0;
    for (const delayMs of [0, 5, 15, 30, 60, 100, 160, 250, 400]) {
      totalPublished += await runAndKill(script, delayMs);
      for (const key of entryDirsOnDisk()) {
        // No dir in the cache without its stage.json (publish renames whole dirs)...
        expect(existsSync(join(store.entryDir(key), 'stage.json')), `entry ${key} after kill at ${delayMs} ms`).toBe(true);
        // ...and every entry's outputs hash to what stage.json says.
        const entry = await store.lookup(key);
        expect(entry).toBeDefined();
        const v = await verifyEntry(entry!);
        expect(v.ok, `entry ${key} after kill at ${delayMs} ms: ${v.actual} vs ${v.expected}`).toBe(true);
        expect(readdirSync(entry!.outDir).length).toBe(21);
      }
    }
    // The kills landed while publishing, not before the first or after a quiet end.
    expect(totalPublished).toBeGreaterThan(0);
    await store.sweepStaging();
    expect(readdirSync(join(runsDir, 'cache', '.staging'))).toEqual([]);
  });
});
