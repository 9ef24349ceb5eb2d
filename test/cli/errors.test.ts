import { describe, expect, it } from 'vitest';
import { CliRig } from '../helpers/cli-rig.js';
import { UserError } from '../../src/core/errors.js';

/** Every user mistake: one clear paragraph, the right exit code, never a stack trace. */
function expectCleanError(res: { code: number; stderr: string }, code: number, pattern: RegExp): void {
  expect(res.code).toBe(code);
  expect(res.stderr).toMatch(pattern);
  expect(res.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // no stack frames
}

describe('CLI errors', () => {
  it('malformed YAML: file:line:column, exit 2', async () => {
    const rig = new CliRig();
    rig.write('pipeline.yaml', 'version: 1\nname: bad\nstages:\n  a:\n    run: [unclosed\n');
    expectCleanError(await rig.run(['run']), 2, /pipeline\.yaml:\d+:\d+/);
  });

  it('schema violation names the field and its line, exit 2', async () => {
    const rig = new CliRig();
    rig.write('pipeline.yaml', 'version: 1\nname: bad\nstages:\n  a:\n    run: echo\n    bogus: 3\n');
    expectCleanError(await rig.run(['run']), 2, /pipeline\.yaml:6:\d+.*bogus/);
  });

  it('unknown stage type suggests the nearest, exit 2', async () => {
    const rig = new CliRig();
    rig.write('pipeline.yaml', 'version: 1\nname: bad\nstages:\n  a:\n    uses: comand\n');
    expectCleanError(await rig.run(['run']), 2, /unknown stage type "comand".*did you mean "command"/);
  });

  it('a cycle is shown, exit 2, before anything runs', async () => {
    const rig = new CliRig();
    rig.write('pipeline.yaml', `version: 1\nname: bad\nstages:\n  a:\n    needs: [b]\n    run: ${CliRig.counted('a', 'true')}\n  b:\n    needs: [a]\n    run: "true"\n`);
    expectCleanError(await rig.run(['run']), 2, /cycle/);
    expect(rig.count('a')).toBe(0);
  });

  it('needs naming a missing stage, exit 2', async () => {
    const rig = new CliRig();
    rig.write('pipeline.yaml', 'version: 1\nname: bad\nstages:\n  a:\n    needs: [nope]\n    run: "true"\n');
    expectCleanError(await rig.run(['run']), 2, /nope/);
  });

  it('a command that exits non-zero: exit 1, the exit code and its last output quoted', async () => {
    const rig = new CliRig();
    rig.write('pipeline.yaml', 'version: 1\nname: bad\nstages:\n  a:\n    run: echo "disk on fire" >&2; exit 3\n');
    const res = await rig.run(['run']);
    expectCleanError(res, 1, /command stage "a" failed: it exited with code 3[\s\S]*disk on fire/);
    expect(rig.exists('runs/cache')).toBe(true);
  });

  it('a command that is not found: exit 1, says so', async () => {
    const rig = new CliRig();
    rig.write('pipeline.yaml', 'version: 1\nname: bad\nstages:\n  a:\n    run: no-such-tool-xyz --flag\n');
    expectCleanError(await rig.run(['run']), 1, /not found/);
  });

  it('a failure stops dependents; --keep-going still runs independent stages', async () => {
    const rig = new CliRig();
    rig.write(
      'pipeline.yaml',
      `version: 1\nname: bad\nstages:\n  bad:\n    run: exit 1\n  after:\n    needs: [bad]\n    run: ${CliRig.counted('after', 'true')}\n  other:\n    needs: [slow]\n    run: ${CliRig.counted('other', 'true')}\n  slow:\n    run: sleep 0.2\n`,
    );
    const res = await rig.run(['run', '--keep-going']);
    expect(res.code).toBe(1);
    expect(rig.count('after')).toBe(0);
    expect(rig.count('other')).toBe(1);
    expect(res.stdout).toMatch(/after: skipped \(upstream bad did not complete\)/);
  });

  it('an output path escaping the stage folder is rejected, exit 2', async () => {
    const rig = new CliRig();
    rig.write('pipeline.yaml', 'version: 1\nname: bad\nstages:\n  a:\n    run: echo > ${{ outputs.dir }}/x\n    outs: [../../escape]\n');
    expectCleanError(await rig.run(['run']), 2, /outs|outside|escap/);
  });

  it('an output symlinked outside the stage folder is rejected at run time', async () => {
    const rig = new CliRig();
    rig.write('pipeline.yaml', 'version: 1\nname: bad\nstages:\n  a:\n    run: ln -s /etc/hostname ${{ outputs.dir }}/x\n    outs: [x]\n');
    const res = await rig.run(['run']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/outside its output folder|symlink/);
  });

  it('a declared output the command did not create fails the stage', async () => {
    const rig = new CliRig();
    rig.write('pipeline.yaml', 'version: 1\nname: bad\nstages:\n  a:\n    run: "true"\n    outs: [result.json]\n');
    expectCleanError(await rig.run(['run']), 1, /did not create its declared output "result\.json"/);
  });

  it('a command stopped by Ctrl-C exits 130 even though the abort reason is a UserError', async () => {
    const rig = new CliRig();
    rig.write('p.jsonl', `${JSON.stringify({ id: 'r1', reference: 'a b', prediction: 'a' })}\n`);
    const controller = new AbortController();
    // What main.ts aborts with on SIGINT; `score` rethrows the signal's reason.
    controller.abort(new UserError('cancelled', 'cancelled by SIGINT'));
    const res = await rig.run(['score', 'p.jsonl', '--metrics', 'rouge1'], { signal: controller.signal });
    expect(res.code).toBe(130);
    expect(res.stderr).toMatch(/cancelled by SIGINT/);
  });

  it('usage errors: unknown command, unknown flag, bad --jobs, missing pipeline — exit 2', async () => {
    const rig = new CliRig();
    expectCleanError(await rig.run(['frobnicate']), 2, /unknown command "frobnicate"/);
    rig.write('pipeline.yaml', 'version: 1\nname: ok\nstages:\n  a:\n    run: "true"\n');
    expectCleanError(await rig.run(['run', '--frob']), 2, /run: .*frob/);
    expectCleanError(await rig.run(['run', '--jobs', 'zero']), 2, /--jobs must be an integer/);
    expectCleanError(await rig.run(['run', 'missing.yaml']), 2, /missing\.yaml does not exist/);
    expectCleanError(await rig.run(['run', '--stage', 'aa']), 2, /no stage "aa".*did you mean "a"/);
  });

  it('--verbose adds the stack for internal errors only on request', async () => {
    const rig = new CliRig();
    rig.write('pipeline.yaml', 'version: 1\nname: bad\nstages:\n  a:\n    uses: nope\n');
    const res = await rig.run(['run', '--verbose']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/at /);
  });
});
