/**
 * The in-process half of the loader fuzz test, run in a worker thread so that a mutation that
 * hangs the loader (synchronous code) fails the test by vitest's timeout instead of freezing the
 * test process. Input (workerData): { seed, iterations }. Output (one message): a FuzzReport.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../../../src/core/errors.js';
import { Prng } from '../../../src/core/prng.js';
import { stageKeyInputs } from '../../../src/engine/key-inputs.js';
import { stageKey } from '../../../src/engine/store/index.js';
import { parsePipeline, renderDag } from '../../../src/engine/pipeline/index.js';
import { builtinRegistry } from '../../../stages/index.js';
import { designExample, testRegistry } from './fixtures.js';
import { mutate } from './fuzz-mutations.js';
import { testDigest } from '../../helpers/fingerprints.js';

export interface FuzzReport {
  iterations: number;
  /** CPU time of the loop, ms (user + system of this worker's process; reported, never asserted). */
  cpuMs: number;
  loaded: number;
  refused: number;
  /** Mutations that broke a rule: a non-UserError, a message not naming the file. */
  failures: Array<{ seed: number; iteration: number; text: string; error: string }>;
}

const FILE = '/fuzz/p.yaml';
const root = new URL('../../../', import.meta.url).pathname;
const bases: Array<{ text: string; registry: ReturnType<typeof builtinRegistry> }> = [
  { text: designExample, registry: testRegistry() },
  ...['smoke', 'pretrain', 'paper', 'models', 'replication'].map((name) => ({ text: readFileSync(join(root, 'pipelines', `${name}.yaml`), 'utf8'), registry: builtinRegistry() })),
];

async function fuzz(seed: number, iterations: number): Promise<FuzzReport> {
  const rng = new Prng(seed);
  const cpu0 = process.cpuUsage();
  const report: FuzzReport = { iterations, cpuMs: 0, loaded: 0, refused: 0, failures: [] };
  for (let i = 0; i < iterations; i++) {
    const base = bases[rng.int(bases.length)]!;
    const text = mutate(base.text, rng);
    try {
      const p = parsePipeline(text, FILE, base.registry);
      // A pipeline that loads must also key and draw: .inf once loaded and failed only here.
      for (const stage of p.stages.values()) {
        const inputs = Object.fromEntries(stage.needs.map((n) => [n, testDigest('d')]));
        try {
          stageKey(await stageKeyInputs(stage, inputs, p.dir, p.seed));
        } catch (err) {
          if (!(err instanceof UserError)) throw err; // a missing dep file is the user's
        }
      }
      for (const format of ['text', 'mermaid', 'dot'] as const) renderDag(p, format);
      report.loaded++;
    } catch (err) {
      const ok = err instanceof UserError && err.message.length > 0 && err.message.split('\n').every((line) => line.includes(FILE));
      if (ok) report.refused++;
      else report.failures.push({ seed, iteration: i, text, error: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err) });
    }
  }
  const cpu = process.cpuUsage(cpu0);
  report.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  return report;
}

const { seed, iterations } = workerData as { seed: number; iterations: number };
parentPort!.postMessage(await fuzz(seed, iterations));
