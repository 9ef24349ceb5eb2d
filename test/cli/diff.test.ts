import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CliRig } from '../helpers/cli-rig.js';

/** A one-stage pipeline whose command writes a metrics.json with the given BLEU values. */
function pipeline(rig: CliRig, bleu: number, lifestyle: number): void {
  const metrics = JSON.stringify({ overall: { bleu, n: 12 }, by_domain: { lifestyle: { bleu: lifestyle } }, by_question_type: { open: { bleu } } });
  rig.write('p.yaml', `version: 1\nname: p\nstages:\n  scores:\n    run: echo '${metrics}' > \${{ outputs.dir }}/metrics.json\n`);
}

const rigs: CliRig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) rmSync(r.dir, { recursive: true, force: true });
});
function newRig(): CliRig {
  const rig = new CliRig();
  rigs.push(rig);
  return rig;
}

describe('polypersona diff', () => {
  it('two lock files: the param that changed and the metrics side by side with deltas, as a table and as JSON', async () => {
    const rig = newRig();
    pipeline(rig, 0.5, 0.25);
    expect((await rig.run(['run', 'p.yaml'])).code).toBe(0);
    copyFileSync(join(rig.dir, 'p.lock.yaml'), join(rig.dir, 'a.lock.yaml'));
    pipeline(rig, 0.75, 0.25);
    expect((await rig.run(['run', 'p.yaml'])).code).toBe(0);

    const res = await rig.run(['diff', 'a.lock.yaml', 'p.lock.yaml', '--pipeline', 'p.yaml']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^A: a\.lock\.yaml$/m);
    expect(res.stdout).toMatch(/scores {2}with\.run: ".*0\.5.*" -> ".*0\.75.*"/);
    expect(res.stdout).toMatch(/metrics of scores:/);
    expect(res.stdout).toMatch(/overall\.bleu\s+0\.5\s+0\.75\s+\+0\.25/);
    expect(res.stdout).toMatch(/by_question_type\.open\.bleu\s+0\.5\s+0\.75\s+\+0\.25/);
    expect(res.stdout).not.toMatch(/by_domain\.lifestyle\.bleu/); // unchanged metrics only with --all
    expect((await rig.run(['diff', 'a.lock.yaml', 'p.lock.yaml', '--pipeline', 'p.yaml', '--all'])).stdout).toMatch(/by_domain\.lifestyle\.bleu\s+0\.25\s+0\.25\s+0/);

    const json = JSON.parse((await rig.run(['diff', 'a.lock.yaml', 'p.lock.yaml', '--pipeline', 'p.yaml', '--json'])).stdout);
    expect(json.params).toEqual([expect.objectContaining({ stage: 'scores', path: 'with.run' })]);
    expect(json.metrics.map((m: { metric: string }) => m.metric)).toEqual(['overall.bleu', 'by_question_type.open.bleu']);
    expect(json.metrics[0]).toMatchObject({ stage: 'scores', a: 0.5, b: 0.75, delta: 0.25 });
  });

  it('defaults: the lock file committed at HEAD against the working tree', async () => {
    const rig = newRig();
    const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: rig.dir, encoding: 'utf8' });
    git('init', '-q');
    pipeline(rig, 0.5, 0.25);
    await rig.run(['run', 'p.yaml']);
    git('add', 'p.yaml', 'p.lock.yaml');
    git('commit', '-qm', 'first');
    pipeline(rig, 0.5, 0.125);
    await rig.run(['run', 'p.yaml']);
    const res = await rig.run(['diff', '--pipeline', 'p.yaml']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^A: HEAD$/m);
    expect(res.stdout).toMatch(/by_domain\.lifestyle\.bleu\s+0\.25\s+0\.125\s+-0\.125/);
    expect(res.stdout).not.toMatch(/overall\.bleu/);
  });

  it('bad runs are named: an unknown revision, a history entry that does not exist, too many runs', async () => {
    const rig = newRig();
    pipeline(rig, 0.5, 0.25);
    await rig.run(['run', 'p.yaml']);
    const bad = await rig.run(['diff', 'no-such-rev', '--pipeline', 'p.yaml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"no-such-rev" is not a lock file, a pipeline file, history:N or a git revision holding p\.lock\.yaml/);
    const far = await rig.run(['diff', 'history:5', '--pipeline', 'p.yaml']);
    expect(far.stderr).toMatch(/history:5: pipeline "p" has 1 run record\(s\); history:1 is the latest/);
    expect((await rig.run(['diff', 'history:1', 'p.lock.yaml', '--pipeline', 'p.yaml'])).code).toBe(0);
    expect((await rig.run(['diff', 'a', 'b', 'c', '--pipeline', 'p.yaml'])).stderr).toMatch(/at most two runs/);
  });
});
