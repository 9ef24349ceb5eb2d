import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CliRig } from '../helpers/cli-rig.js';
import { reducedSmoke, verifyJson } from './smoke-reduced.js';

/**
 * What holds between two machines, tested on the smoke chain reduced through its params (every
 * stage type of the method, 60 records): the lock file is written with 1 thread and verified with
 * 2, which changes onnxruntime's float reductions (the split of every matmul and sum) the way
 * another CPU's kernels do. Pure JS stages must come out identical; the float stages (lora-train,
 * generate, score) identical or within tolerance; verify exits 0. The other-CPU run itself is in
 * cross-cpu.test.ts (qemu).
 */
const PURE_JS = ['personas', 'dataset', 'chatml', 'base', 'quantized'];

const rig = new CliRig();
afterAll(() => rmSync(rig.dir, { recursive: true, force: true }));

describe('reproducibility across thread counts (smoke chain, reduced)', () => {
  it('a lock written with 1 thread verifies with 2: pure JS stages identical, float stages identical or within tolerance', async () => {
    rig.write('smoke.yaml', reducedSmoke());
    const run = await rig.run(['run', 'smoke.yaml', '--threads', '1']);
    expect(run.stderr + run.stdout).toMatch(/ok: 9 ran/);
    const res = await rig.run(['verify', 'smoke.yaml', '--threads', '2', '--json']);
    const report = verifyJson(res.stdout);
    const verdicts = Object.fromEntries(report.stages.map((s) => [s.id, s.verdict]));
    for (const id of PURE_JS) expect(verdicts[id], id).toBe('identical');
    for (const s of report.stages) expect(['identical', 'within-tolerance'], `${s.id}: ${s.firstDifference}`).toContain(s.verdict);
    expect(report.ok).toBe(true);
    expect(res.code).toBe(0);
    // --strict accepts bitwise equality only: it fails exactly when some stage was within tolerance.
    const strict = await rig.run(['verify', 'smoke.yaml', '--threads', '2', '--strict', '--json']);
    expect(strict.code).toBe(report.stages.every((s) => s.verdict === 'identical') ? 0 : 1);
  });

  it('a fresh run with 2 threads rewrites only the lock entries of float stages (lora-train, generate, score)', async () => {
    const before = parse(rig.read('smoke.lock.yaml')) as { stages: Record<string, { type: string }> };
    const run = await rig.run(['run', 'smoke.yaml', '--threads', '2', '--runs-dir', join(rig.dir, 'fresh-runs')]);
    expect(run.stderr + run.stdout).toMatch(/ok: 9 ran/);
    const after = parse(rig.read('smoke.lock.yaml')) as typeof before;
    expect(Object.keys(after.stages)).toEqual(Object.keys(before.stages));
    for (const [id, entry] of Object.entries(before.stages)) {
      if (!['lora-train', 'generate', 'score'].includes(entry.type)) expect(after.stages[id], id).toEqual(entry);
    }
  });
});
