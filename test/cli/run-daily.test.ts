/**
 * `polypersona run` as used every day: param overrides (-S), the runs folder found from the
 * project wherever the command runs, stable links to each stage's latest output, and the words
 * it uses for why a stage runs.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliRig } from '../helpers/cli-rig.js';

const PIPELINE = `version: 1
name: daily
params: { seed: 7, greeting: hello }
stages:
  personas:
    uses: sample-personas
    with: { count: 4, seed: \${{ params.seed }} }
  greet:
    run: echo "\${{ params.greeting }}" > \${{ outputs.dir }}/greeting.txt
`;

function history(rig: CliRig, name = 'daily'): Array<Record<string, unknown>> {
  const dir = join(rig.dir, 'runs', 'history', name);
  return existsSync(dir) ? readdirSync(dir).sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>) : [];
}

describe('run -S NAME=VALUE', () => {
  it('overrides a pipeline param and a stage with: value for one run, records them, and leaves the lock file as the file says', async () => {
    const rig = new CliRig();
    rig.write('p.yaml', PIPELINE);
    expect((await rig.run(['run', 'p.yaml'])).code).toBe(0);
    const lock = rig.read('p.lock.yaml');

    const res = await rig.run(['run', 'p.yaml', '-S', 'greeting=bye', '-S', 'personas.count=5', '--set', 'params.seed=8']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('param with.count: 4 -> 5; param with.seed: 7 -> 8');
    expect(readFileSync(join(rig.dir, 'runs', 'latest', 'daily', 'greet', 'greeting.txt'), 'utf8')).toBe('bye\n');
    expect(rig.read('p.lock.yaml')).toBe(lock);
    const records = history(rig);
    expect(records[0]).not.toHaveProperty('overrides');
    expect(records[1]!.overrides).toEqual({ 'params.greeting': 'bye', 'stages.personas.with.count': 5, 'params.seed': 8 });

    // The same overrides again: everything is cached under the overridden keys.
    const again = await rig.run(['run', 'p.yaml', '-S', 'greeting=bye', '-S', 'personas.count=5', '-S', 'seed=8']);
    expect(again.stdout).toContain('0 ran, 2 cached');
  });

  it('reads values as YAML and names a bad override clearly', async () => {
    const rig = new CliRig();
    rig.write('p.yaml', PIPELINE);
    const unknown = await rig.run(['run', 'p.yaml', '-S', 'greting=x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/-S greting=x: .*has no param or stage "greting" \(did you mean "?greeting"?\?\)/);
    const noValue = await rig.run(['run', 'p.yaml', '-S', 'seed']);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toContain('expected NAME=VALUE');
    const badField = await rig.run(['run', 'p.yaml', '-S', 'personas.cout=5']);
    expect(badField.code).toBe(2);
    expect(badField.stderr).toMatch(/stages\.personas\.with.*cout.*\(set by -S stages\.personas\.with\.cout=5\)/s);
    const badType = await rig.run(['run', 'p.yaml', '-S', 'personas.count=many']);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain('(set by -S stages.personas.with.count="many")');
  });
});

describe('the runs folder', () => {
  it('is the project\'s, wherever the command runs from', async () => {
    const rig = new CliRig();
    rig.write('package.json', '{}');
    rig.write('pipelines/p.yaml', PIPELINE);
    expect((await rig.run(['run', 'pipelines/p.yaml'])).code).toBe(0);
    rig.write('notes/readme.txt', 'elsewhere');
    const fromElsewhere = await rig.run(['run', '../pipelines/p.yaml'], { cwd: 'notes' });
    expect(fromElsewhere.stdout).toContain('0 ran, 2 cached');
    expect(existsSync(join(rig.dir, 'notes', 'runs'))).toBe(false);
    const status = await rig.run(['status', join(rig.dir, 'pipelines', 'p.yaml')], { cwd: 'notes' });
    expect(status.stdout).toContain('2 cached, 0 to run');
  });

  it('is beside the pipeline when no folder above it is a project', async () => {
    const rig = new CliRig();
    rig.write('study/p.yaml', PIPELINE);
    rig.write('elsewhere/x.txt', '');
    expect((await rig.run(['run', '../study/p.yaml'], { cwd: 'elsewhere' })).code).toBe(0);
    expect(existsSync(join(rig.dir, 'study', 'runs', 'cache'))).toBe(true);
    expect(existsSync(join(rig.dir, 'elsewhere', 'runs'))).toBe(false);
  });

  it('is documented in --help', async () => {
    const rig = new CliRig();
    expect((await rig.run(['run', '--help'])).stdout).toMatch(/runs\/ in the pipeline's project/);
  });
});

describe('findable outputs', () => {
  it('links runs/latest/<pipeline>/<stage> to each output and `outputs` prints the paths', async () => {
    const rig = new CliRig();
    rig.write('p.yaml', PIPELINE);
    const run = await rig.run(['run', 'p.yaml']);
    expect(run.stdout).toContain('outputs: runs/latest/daily/<stage>');
    const link = join(rig.dir, 'runs', 'latest', 'daily', 'greet');
    expect(realpathSync(link)).toMatch(/runs\/cache\/[0-9a-f]{2}\/[0-9a-f]{64}\/out$/);
    expect(readFileSync(join(link, 'greeting.txt'), 'utf8')).toBe('hello\n');

    const one = await rig.run(['outputs', 'greet', '-p', 'p.yaml']);
    expect(one.stdout).toBe('runs/latest/daily/greet\n');
    const all = await rig.run(['outputs', '-p', 'p.yaml', '--json']);
    expect(JSON.parse(all.stdout)).toEqual([
      { stage: 'personas', path: join(rig.dir, 'runs/latest/daily/personas'), dir: expect.stringMatching(/\/out$/), state: 'latest' },
      { stage: 'greet', path: join(rig.dir, 'runs/latest/daily/greet'), dir: realpathSync(link), state: 'latest' },
    ]);

    // A changed param: the link moves to the new entry.
    const before = realpathSync(link);
    await rig.run(['run', 'p.yaml', '-S', 'greeting=bye']);
    expect(realpathSync(link)).not.toBe(before);
    rmSync(join(rig.dir, 'runs', 'cache'), { recursive: true });
    const gone = await rig.run(['outputs', 'greet', '-p', 'p.yaml']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('removed by gc');
  });
});

describe('why a stage runs', () => {
  it('a first run on a machine whose lock file has the keys says so, not "removed by gc"', async () => {
    const rig = new CliRig();
    rig.write('p.yaml', PIPELINE);
    await rig.run(['run', 'p.yaml']);
    // A fresh clone: the committed lock file, no runs/.
    rmSync(join(rig.dir, 'runs'), { recursive: true });
    const fresh = await rig.run(['run', 'p.yaml', '--dry-run']);
    expect(fresh.stdout).toContain('greet: would run (not built on this machine yet (the lock file records this key))');
    expect(fresh.stdout).toContain('dry run: 2 would run, 0 cached (nothing was run)');
    await rig.run(['run', 'p.yaml']);
    rmSync(join(rig.dir, 'runs', 'cache'), { recursive: true });
    const removed = await rig.run(['run', 'p.yaml', '--dry-run']);
    expect(removed.stdout).toContain('greet: would run (cache entry removed (by gc or by hand) since a run built it)');
  });
});
