import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { CliRig } from '../helpers/cli-rig.js';
import { exitOf } from '../helpers/spawn-cli.js';
import { reducedSmoke, verifyJson } from '../pipelines/smoke-reduced.js';

/**
 * Another CPU, for real: the lock file is written here and verified by the same CLI running
 * under `qemu-x86_64 -cpu Haswell` (AVX2 and FMA, no AVX-512), where ONNX Runtime's MLAS
 * dispatches other kernels and so other float reductions whenever this machine has AVX-512. The
 * chain is the smoke pipeline with 60 records up to its adapter, trained for 2 steps (`--stage
 * adapter`: personas, dataset, chatml, base, quantized, adapter), since emulation makes a step take
 * about a minute. verify must classify every stage as identical or within tolerance, never as
 * different. Skipped, saying why, where qemu-x86_64 is missing (Debian: apt-get install qemu-user)
 * or the host is not x86-64. Run with `npm run test:cross-cpu`.
 */
const qemu = process.env.PATH?.split(delimiter).map((d) => join(d, 'qemu-x86_64')).find((p) => existsSync(p));
const runnable = qemu !== undefined && process.arch === 'x64';
const hostAvx512 = existsSync('/proc/cpuinfo') && /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));

const rig = new CliRig();
afterAll(() => rmSync(rig.dir, { recursive: true, force: true }));

describe('reproducibility on another CPU (qemu-x86_64 -cpu Haswell)', () => {
  it.skipIf(!runnable)(
    `a lock written here verifies on an emulated Haswell: every stage identical or within tolerance${runnable ? '' : ' — SKIPPED: qemu-x86_64 is not on PATH (apt-get install qemu-user) or this is not x86-64'}`,
    async () => {
      const yaml = reducedSmoke(60).replace('eval_steps: 8 }', 'eval_steps: 8, max_steps: 2 }');
      expect(yaml).toContain('max_steps: 2');
      rig.write('smoke.yaml', yaml);
      const run = await rig.run(['run', 'smoke.yaml', '--threads', '1', '--stage', 'adapter']);
      expect(run.stderr + run.stdout).toMatch(/ok: 6 ran/);
      const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
      const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
      const child = spawn(qemu!, ['-cpu', 'Haswell', process.execPath, '--import', tsx, main, 'verify', 'smoke.yaml', '--threads', '1', '--stage', 'adapter', '--json'], {
        cwd: rig.dir,
        env: { ...process.env, CI: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const res = await exitOf(child);
      const report = verifyJson(res.stdout);
      expect(report.stages.map((s) => s.id)).toEqual(['personas', 'dataset', 'chatml', 'base', 'quantized', 'adapter']);
      for (const s of report.stages) expect(['identical', 'within-tolerance'], `${s.id}: ${s.firstDifference}`).toContain(s.verdict);
      expect(report.ok).toBe(true);
      expect(res.code).toBe(0);
      // Pure JS stages do not depend on the CPU at all.
      for (const id of ['personas', 'dataset', 'chatml', 'base', 'quantized']) expect(report.stages.find((s) => s.id === id)?.verdict, id).toBe('identical');
      if (hostAvx512) {
        // Haswell has no AVX-512, so onnxruntime ran other kernels: the trained adapter differs
        // in the last bits, and verify must have said "within tolerance", not "different".
        expect(report.stages.find((s) => s.id === 'adapter')?.verdict).toBe('within-tolerance');
      }
    },
  );
});
