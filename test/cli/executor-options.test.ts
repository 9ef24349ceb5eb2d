import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CliRig } from '../helpers/cli-rig.js';

const rigs: CliRig[] = [];
const rig = (): CliRig => {
  const r = new CliRig();
  rigs.push(r);
  return r;
};
afterEach(() => {
  for (const r of rigs.splice(0)) rmSync(r.dir, { recursive: true, force: true });
});

const PIPELINE = ['version: 1', 'stages:', '  a:', '    run: echo x >> counters/a && echo hi > ${{ outputs.dir }}/a.txt', ''].join('\n');

function entries(cacheDir: string): string[] {
  if (!existsSync(cacheDir)) return [];
  return readdirSync(cacheDir)
    .filter((s) => /^[0-9a-f]{2}$/.test(s))
    .flatMap((s) => readdirSync(join(cacheDir, s)).filter((k) => /^[0-9a-f]{64}$/.test(k)));
}

describe('cache_dir and --executor on the command line', () => {
  it('the pipeline’s cache_dir holds the cache (relative to the pipeline), and status and show read it there', async () => {
    const r = rig();
    r.write('polypersona.yaml', ''); // marks r.dir as the project root: runs/ goes there (src/cli/project.ts)
    r.write('pipelines/p.yaml', `cache_dir: ../team-cache/cache\n${PIPELINE.replace('counters/a', '../counters/a')}`);
    const run = await r.run(['run', 'pipelines/p.yaml']);
    expect(run.code, run.stderr).toBe(0);
    expect(entries(join(r.dir, 'team-cache', 'cache'))).toHaveLength(1);
    expect(entries(join(r.dir, 'runs', 'cache'))).toEqual([]);
    expect(existsSync(join(r.dir, 'runs', 'history'))).toBe(true);
    const status = await r.run(['status', 'pipelines/p.yaml']);
    expect(status.stdout).toMatch(/a\s+cached/);
    const show = await r.run(['show', 'a', '-p', 'pipelines/p.yaml']);
    expect(show.stdout).toContain(join(r.dir, 'team-cache', 'cache'));
    const again = await r.run(['run', 'pipelines/p.yaml']);
    expect(again.stdout).toMatch(/0 ran, 1 cached/);
    expect(r.count('a')).toBe(1);
  });

  it('POLYPERSONA_CACHE_DIR wins over the pipeline’s cache_dir', async () => {
    const r = rig();
    r.write('p.yaml', `cache_dir: pipeline-cache\n${PIPELINE}`);
    const run = await r.run(['run', 'p.yaml'], { env: { POLYPERSONA_CACHE_DIR: 'env-cache' } });
    expect(run.code, run.stderr).toBe(0);
    expect(entries(join(r.dir, 'env-cache'))).toHaveLength(1);
    expect(entries(join(r.dir, 'pipeline-cache'))).toEqual([]);
  });

  it('--executor local runs a pipeline meant for a cluster here, with the same keys', async () => {
    const r = rig();
    r.write('p.yaml', PIPELINE);
    await r.run(['run', 'p.yaml', '--runs-dir', 'plain']);
    r.write('p.yaml', `executor: { kind: slurm, partition: gpu, mem: 4G }\n${PIPELINE}`);
    const run = await r.run(['run', 'p.yaml', '--executor', 'local', '--runs-dir', 'here']);
    expect(run.code, run.stderr).toBe(0);
    expect(entries(join(r.dir, 'here', 'cache'))).toEqual(entries(join(r.dir, 'plain', 'cache')));
  });

  it('a bad --executor or POLYPERSONA_JOB_COMMAND is a usage error that says what is accepted', async () => {
    const r = rig();
    r.write('p.yaml', PIPELINE);
    const bad = await r.run(['run', 'p.yaml', '--executor', 'pbs']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: run: --executor must be one of local, slurm, got "pbs"');
    const badWatch = await r.run(['watch', 'p.yaml', '--executor', 'k8s']);
    expect(badWatch.code).toBe(2);
    expect(badWatch.stderr).toContain('error: watch: --executor must be one of local, slurm, got "k8s"');
    const cmd = await r.run(['run', 'p.yaml'], { env: { POLYPERSONA_JOB_COMMAND: 'node main.js' } });
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain('POLYPERSONA_JOB_COMMAND must be a JSON list of words');
  });
});
