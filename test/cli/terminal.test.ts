/**
 * The CLI as a person meets it: in a real pseudo-terminal (util-linux `script`) where Ctrl-C is a
 * keystroke, and in pipes whose reader goes away. Each test runs the real CLI in a child process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CliRig } from '../helpers/cli-rig.js';
import { exitOf, spawnCli } from '../helpers/spawn-cli.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
const mainTs = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Resolves once `path` exists (the stage says it started); polls the file system, the test's timeout bounds it. */
async function appears(path: string): Promise<void> {
  while (!existsSync(path)) await new Promise((r) => setTimeout(r, 25));
}

function slowPipeline(rig: CliRig): string {
  const marker = join(rig.dir, 'started');
  rig.write(
    'p.yaml',
    `version: 1
name: slow
stages:
  first:
    run: echo one > \${{ outputs.dir }}/one
  slow:
    needs: [first]
    run: touch ${marker} && sleep 60 && echo two > \${{ outputs.dir }}/two
`,
  );
  return marker;
}

function historyStatuses(rig: CliRig): string[] {
  const dir = join(rig.dir, 'runs', 'history', 'slow');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { status: string }).status);
}

describe('on a terminal', () => {
  it.skipIf(!hasScript)('Ctrl-C cancels the run: exit 130, a summary line and a history record (not listr2\'s exit 127)', async () => {
    const rig = new CliRig();
    const marker = slowPipeline(rig);
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
    delete env.CI; // the live view, as a person at a terminal gets it
    const command = `'${process.execPath}' --import '${tsx}' '${mainTs}' run p.yaml`;
    const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: rig.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = exitOf(child);
    await appears(marker);
    child.stdin!.write('\x03'); // the keystroke: the terminal sends SIGINT to the foreground group
    const { code, stdout } = await exited;
    child.stdin!.end();
    expect(code).toBe(130);
    expect(stdout).toMatch(/cancelled: 0 ran, 1 cached|cancelled: 1 ran, 0 cached/);
    expect(historyStatuses(rig)).toEqual(['cancelled']);
  });
});

describe('in a pipe whose reader goes away', () => {
  it('`run --json | head -1` stops quietly: no stack trace, the run is recorded as cancelled', async () => {
    const rig = new CliRig();
    slowPipeline(rig);
    const child = spawnCli(['run', 'p.yaml', '--json'], rig.dir);
    const exited = exitOf(child);
    child.stdout!.destroy(); // the reader is gone before the first line
    const { code, stderr } = await exited;
    expect(stderr).toBe('');
    expect(code).toBe(130);
    expect(historyStatuses(rig)).toEqual(['cancelled']);
  });

  it('`stages | head -3` exits 0 without a word on stderr', async () => {
    const rig = new CliRig();
    const child = spawnCli(['stages'], rig.dir);
    const exited = exitOf(child);
    child.stdout!.destroy();
    const { code, stderr } = await exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
