import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CliRig } from '../helpers/cli-rig.js';

const counted = CliRig.counted;

/** a → b → c, plus an independent d; every stage counts its executions. */
function chain(rig: CliRig, greeting = 'hello'): void {
  rig.write('data/input.txt', 'input v1\n');
  rig.write(
    'pipeline.yaml',
    `version: 1
name: chain
params: { greeting: ${greeting} }
stages:
  a:
    run: ${counted('a', 'echo "${{ params.greeting }}" > ${{ outputs.dir }}/a.txt')}
  b:
    needs: [a]
    run: ${counted('b', 'cat ${{ stages.a.outputs.dir }}/a.txt data/input.txt > ${{ outputs.dir }}/b.txt')}
    deps: [data/input.txt]
    outs: [b.txt]
  c:
    needs: [b]
    run: ${counted('c', 'wc -c < ${{ stages.b.outputs.dir }}/b.txt > ${{ outputs.dir }}/c.txt')}
  d:
    run: ${counted('d', 'echo independent > ${{ outputs.dir }}/d.txt')}
`,
  );
}

describe('polypersona run', () => {
  it('runs every stage once, then a second run executes nothing and says so', async () => {
    const rig = new CliRig();
    chain(rig);
    const first = await rig.run(['run']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/4 ran, 0 cached/);
    const second = await rig.run(['run']);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/0 ran, 4 cached/);
    expect(['a', 'b', 'c', 'd'].map((s) => rig.count(s))).toEqual([1, 1, 1, 1]);
  });

  it('a changed param reruns exactly that stage and its dependents', async () => {
    const rig = new CliRig();
    chain(rig);
    await rig.run(['run']);
    chain(rig, 'bonjour');
    const res = await rig.run(['run']);
    expect(res.code).toBe(0);
    expect(['a', 'b', 'c', 'd'].map((s) => rig.count(s))).toEqual([2, 2, 2, 1]);
    expect(res.stdout).toMatch(/a: running \(param with\.run: .*hello.* -> .*bonjour/);
  });

  it('editing a deps file reruns the command stage that declares it (and its dependents)', async () => {
    const rig = new CliRig();
    chain(rig);
    await rig.run(['run']);
    rig.write('data/input.txt', 'input v2\n');
    const res = await rig.run(['run']);
    expect(res.code).toBe(0);
    expect(['a', 'b', 'c', 'd'].map((s) => rig.count(s))).toEqual([1, 2, 2, 1]);
    expect(res.stdout).toMatch(/b: running \(dep data\/input\.txt changed/);
  });

  it('an upstream rerun whose output is unchanged does not rerun downstream', async () => {
    const rig = new CliRig();
    chain(rig);
    await rig.run(['run']);
    await rig.run(['run', '--stage', 'a', '--force']);
    expect(['a', 'b', 'c'].map((s) => rig.count(s))).toEqual([2, 1, 1]);
  });

  it('reordering keys in the YAML changes no key', async () => {
    const rig = new CliRig();
    rig.write(
      'pipeline.yaml',
      `version: 1\nname: order\nstages:\n  s:\n    run: ${counted('s', 'echo 1 > ${{ outputs.dir }}/x')}\n    env: { A: "1", B: "2" }\n    outs: [x]\n`,
    );
    await rig.run(['run']);
    rig.write(
      'pipeline.yaml',
      `name: order\nstages:\n  s:\n    outs: [x]\n    env: { B: "2", A: "1" }\n    run: ${counted('s', 'echo 1 > ${{ outputs.dir }}/x')}\nversion: 1\n`,
    );
    const res = await rig.run(['run']);
    expect(res.stdout).toMatch(/0 ran, 1 cached/);
    expect(rig.count('s')).toBe(1);
  });

  it('--stage runs one stage, building missing inputs first; --force and --downstream rerun', async () => {
    const rig = new CliRig();
    chain(rig);
    const only = await rig.run(['run', '--stage', 'b']);
    expect(only.code).toBe(0);
    expect(['a', 'b', 'c', 'd'].map((s) => rig.count(s))).toEqual([1, 1, 0, 0]);
    await rig.run(['run', '--stage', 'b', '--force']);
    expect(['a', 'b', 'c', 'd'].map((s) => rig.count(s))).toEqual([1, 2, 0, 0]);
    await rig.run(['run', '--stage', 'b', '--force', '--downstream']);
    expect(['a', 'b', 'c', 'd'].map((s) => rig.count(s))).toEqual([1, 3, 1, 0]);
  });

  it('--dry-run says what would run and runs nothing', async () => {
    const rig = new CliRig();
    chain(rig);
    const res = await rig.run(['run', '--dry-run']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/a: would run \(new stage\)/);
    expect(res.stdout).toMatch(/c: would run \(waits for b\)/);
    expect(['a', 'b', 'c', 'd'].map((s) => rig.count(s))).toEqual([0, 0, 0, 0]);
  });

  it('writes the lock file beside the pipeline and a run record', async () => {
    const rig = new CliRig();
    chain(rig);
    await rig.run(['run']);
    const lock = parse(rig.read('pipeline.lock.yaml'));
    expect(Object.keys(lock.stages)).toEqual(['a', 'b', 'c', 'd']);
    expect(lock.stages.b.deps).toHaveProperty(['data/input.txt']);
    expect(lock.stages.b.inputs).toHaveProperty('a', lock.stages.a.outputs.digest);
    const history = readdirSync(join(rig.dir, 'runs/history/chain'));
    expect(history).toHaveLength(1);
    const record = JSON.parse(readFileSync(join(rig.dir, 'runs/history/chain', history[0]!), 'utf8'));
    expect(record.stages.map((s: { outcome: string }) => s.outcome)).toEqual(['ran', 'ran', 'ran', 'ran']);
  });

  it('--json streams one event per line', async () => {
    const rig = new CliRig();
    chain(rig);
    const res = await rig.run(['run', '--json']);
    const events = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0].type).toBe('run-start');
    expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'ok' });
    expect(events.filter((e) => e.type === 'stage-done')).toHaveLength(4);
  });

  it('runs independent stages in parallel with --jobs', async () => {
    const rig = new CliRig();
    // Each stage waits until the other has started: only succeeds when both run at once.
    const both = (me: string, other: string): string =>
      `touch started-${me}; for i in $(seq 1 100); do [ -f started-${other} ] && break; sleep 0.05; done; [ -f started-${other} ] && echo ok > \${{ outputs.dir }}/x`;
    rig.write('pipeline.yaml', `version: 1\nname: par\nstages:\n  p:\n    run: ${both('p', 'q')}\n  q:\n    run: ${both('q', 'p')}\n`);
    const res = await rig.run(['run', '--jobs', '2']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });
});
