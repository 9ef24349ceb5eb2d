import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';
import { CliRig } from '../helpers/cli-rig.js';

describe('watch on a terminal', () => {
  it('shows each run in the same live view as run, then waits for changes', async () => {
    const rig = new CliRig();
    rig.write('p.yaml', 'version: 1\nname: w\nstages:\n  a:\n    run: echo a > ${{ outputs.dir }}/a\n');
    const controller = new AbortController();
    let out = '';
    const stdout = Object.assign(
      new Writable({
        write(chunk, _enc, done) {
          out += stripVTControlCharacters(String(chunk));
          if (out.includes('waiting for changes')) controller.abort();
          done();
        },
      }),
      { isTTY: true, columns: 120 },
    );
    const env = { ...process.env };
    delete env.CI;
    const io: CliIO = { stdout, stderr: stdout, env, cwd: rig.dir, signal: controller.signal };
    expect(await main(['watch', 'p.yaml'], io)).toBe(0);
    // listr2's tree: a finished stage with its tick and duration, then the run's summary line.
    expect(out).toMatch(/✔ a \(\d+(\.\d+)? m?s\)/);
    expect(out).toMatch(/ok: 1 ran, 0 cached, 0 failed, 0 skipped in/);
    expect(out.indexOf('ok: 1 ran')).toBeLessThan(out.indexOf('waiting for changes'));
  });
});
