import { describe, expect, it } from 'vitest';
import { CliRig } from '../helpers/cli-rig.js';

function twoStages(rig: CliRig, text = 'one'): void {
  rig.write(
    'pipeline.yaml',
    `version: 1\nname: two\nstages:\n  first:\n    run: echo ${text} > \${{ outputs.dir }}/f.txt\n  second:\n    needs: [first]\n    run: cat \${{ stages.first.outputs.dir }}/f.txt > \${{ outputs.dir }}/s.txt\n`,
  );
}

describe('status, show, dag, verify, gc, stages', () => {
  it('status says cached or stale, and why', async () => {
    const rig = new CliRig();
    twoStages(rig);
    let res = await rig.run(['status']);
    expect(res.stdout).toMatch(/first\s+stale .*new stage/);
    expect(res.stdout).toMatch(/second\s+blocked .*upstream first is stale/);
    await rig.run(['run']);
    res = await rig.run(['status']);
    expect(res.stdout).toMatch(/2 cached, 0 to run/);
    twoStages(rig, 'two');
    res = await rig.run(['status', '--json']);
    const json = JSON.parse(res.stdout);
    expect(json.stages[0]).toMatchObject({ id: 'first', state: 'stale' });
    expect(json.stages[0].reasons[0]).toMatch(/param with\.run/);
  });

  it('status gives a missing cache entry the same reason as run does', async () => {
    const rig = new CliRig();
    twoStages(rig);
    await rig.run(['run']);
    const { rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    rmSync(join(rig.dir, 'runs', 'cache'), { recursive: true, force: true });
    const status = await rig.run(['status']);
    expect(status.stdout).toMatch(/first\s+stale .*cache entry removed \(by gc or by hand\) since a run built it/);
    const dry = await rig.run(['run', '--dry-run']);
    expect(dry.stdout).toContain('first: would run (cache entry removed (by gc or by hand) since a run built it)');
  });

  it('show prints the key, the output folder and provenance; unknown stage is exit 2', async () => {
    const rig = new CliRig();
    twoStages(rig);
    await rig.run(['run']);
    const res = await rig.run(['show', 'second']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/key\s+[0-9a-f]{64}/);
    expect(res.stdout).toMatch(/outputs\s+.*runs\/cache\/[0-9a-f]{2}\/[0-9a-f]{64}\/out/);
    const bad = await rig.run(['show', 'secnd']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/did you mean "second"/);
  });

  it('dag renders text, mermaid and dot', async () => {
    const rig = new CliRig();
    twoStages(rig);
    expect((await rig.run(['dag', '--format', 'mermaid'])).stdout).toMatch(/(\w+)\["first[\s\S]*(\w+)\["second[\s\S]*\1 --> \2/);
    expect((await rig.run(['dag', '--format', 'dot'])).stdout).toMatch(/digraph[\s\S]*"first" -> "second"/);
    expect((await rig.run(['dag'])).stdout).toMatch(/first/);
    const bad = await rig.run(['dag', '--format', 'png']);
    expect(bad.code).toBe(2);
  });

  it('verify recomputes without the cache: deterministic stages match, a random one does not', async () => {
    const rig = new CliRig();
    twoStages(rig);
    rig.write('pipeline.yaml', `${rig.read('pipeline.yaml')}  noisy:\n    run: od -An -N8 -tx8 /dev/urandom > \${{ outputs.dir }}/r.txt\n`);
    expect((await rig.run(['verify'])).stderr).toMatch(/lock\.yaml does not exist/);
    await rig.run(['run']);
    const res = await rig.run(['verify']);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/first\s+identical/);
    expect(res.stdout).toMatch(/second\s+identical/);
    expect(res.stdout).toMatch(/noisy\s+DIFFERENT: r\.txt: sha256 [0-9a-f]{12} -> [0-9a-f]{12} \(a bitwise-reproducible output whose inputs are identical\)/);
    expect(res.stdout).toMatch(/2 identical, 0 within tolerance, 1 different/);
    // verify never writes the real cache
    expect((await rig.run(['run'])).stdout).toMatch(/0 ran, 3 cached/);
  });

  it('gc keeps what the lock file references and removes the rest', async () => {
    const rig = new CliRig();
    twoStages(rig, 'old');
    await rig.run(['run']);
    twoStages(rig, 'new');
    await rig.run(['run']);
    const dry = await rig.run(['gc', '--keep-last', '0', '--dry-run']);
    expect(dry.stdout).toMatch(/would remove 2 entries/);
    const res = await rig.run(['gc', '--keep-last', '0']);
    expect(res.stdout).toMatch(/removed 2 entries/);
    expect((await rig.run(['run'])).stdout).toMatch(/0 ran, 2 cached/);
  });

  it('stages lists the built-in stage types', async () => {
    const rig = new CliRig();
    const res = await rig.run(['stages']);
    expect(res.stdout).toMatch(/^command\s+Run a shell command/m);
    expect((await rig.run(['stages', 'nosuch'])).code).toBe(2);
  });

  it('--help for every command; no command prints the overview with exit 2', async () => {
    const rig = new CliRig();
    for (const cmd of ['run', 'status', 'dag', 'show', 'watch', 'verify', 'gc', 'stages']) {
      const res = await rig.run([cmd, '--help']);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(new RegExp(`usage: polypersona ${cmd}`));
    }
    const none = await rig.run([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/commands:/);
  });
});
