/**
 * Fuzz test of the pipeline loader (issue 11): seeded mutations of the shipped pipelines and the
 * DESIGN.md example must either load (and then key and draw) or be refused with a UserError whose
 * every line names the file: exit code 2, never an internal error (exit 1), never a stack trace,
 * never a hang. Bounded by iteration count, not by time: most mutations are loaded in-process
 * (in a worker, so a hang fails by vitest's timeout instead of freezing the run), and a handful
 * of byte-level mutations (invalid UTF-8 included) go through the real CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '../../../src/core/prng.js';
import { exitOf, spawnCli } from '../../helpers/spawn-cli.js';
import { designExample } from './fixtures.js';
import type { FuzzReport } from './fuzz-worker.js';
import { mutateBytes } from './fuzz-mutations.js';

const SEED = 20261202;
const IN_PROCESS = 600;
const THROUGH_CLI = 4;

let worker: Worker | undefined;
const made: string[] = [];
afterEach(async () => {
  await worker?.terminate();
  worker = undefined;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function runWorker(seed: number, iterations: number): Promise<FuzzReport> {
  worker = new Worker(new URL('./fuzz-worker-entry.mjs', import.meta.url), { workerData: { seed, iterations } });
  return new Promise((resolve, reject) => {
    worker!.once('message', resolve);
    worker!.once('error', reject);
    worker!.once('exit', (code) => reject(new Error(`fuzz worker exited with code ${code} before reporting`)));
  });
}

describe('pipeline loader fuzz', () => {
  it(`${IN_PROCESS} seeded mutations load or are refused with a message naming the file`, async () => {
    const report = await runWorker(SEED, IN_PROCESS);
    console.log(`fuzz: ${report.loaded} loaded, ${report.refused} refused, ${report.cpuMs} ms CPU`);
    expect(report.failures.slice(0, 3)).toEqual([]);
    expect(report.loaded + report.refused).toBe(IN_PROCESS);
    // The mutations must actually break things most of the time, or the test proves little.
    expect(report.refused).toBeGreaterThan(IN_PROCESS / 2);
  });

  it(`${THROUGH_CLI} byte-level mutations through the real CLI: exit 0 or 2, no stack trace`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-fuzz-'));
    made.push(dir);
    const rng = new Prng(SEED + 1);
    for (let i = 0; i < THROUGH_CLI; i++) {
      const name = `m${i}.yaml`;
      writeFileSync(join(dir, name), mutateBytes(designExample, rng));
      const res = await exitOf(spawnCli(['run', name, '--dry-run'], dir));
      expect([0, 2], `${name}: ${res.stderr}`).toContain(res.code);
      expect(res.stderr).not.toMatch(/internal error|\n\s+at /);
      if (res.code === 2) expect(res.stderr).toContain(name);
    }
  });
});
