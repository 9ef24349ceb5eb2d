import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A throw-away project folder and the real CLI run in-process against it: tests write files,
 * run commands, and count how often each command stage executed (stages append to counters/).
 */
export class CliRig {
  readonly dir: string;
  /** What the command running now has printed so far (for long-running commands such as serve). */
  lastStdout = '';
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'pp-cli-'));
    mkdirSync(join(this.dir, 'counters'));
  }

  write(rel: string, text: string): string {
    const path = join(this.dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  }

  read(rel: string): string {
    return readFileSync(join(this.dir, rel), 'utf8');
  }

  exists(rel: string): boolean {
    return existsSync(join(this.dir, rel));
  }

  /** How many times the command stage that ran `count NAME` executed. */
  count(name: string): number {
    const path = join(this.dir, 'counters', name);
    return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0;
  }

  /** A shell snippet for a command stage: bump counter NAME, then run `then`. */
  static counted(name: string, then: string): string {
    return `echo x >> counters/${name} && ${then}`;
  }

  async run(argv: string[], options: { signal?: AbortSignal; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
    let stdout = '';
    let stderr = '';
    this.lastStdout = '';
    const sink = (append: (s: string) => void): Writable =>
      new Writable({
        write(chunk, _enc, done) {
          append(String(chunk));
          done();
        },
      });
    const io: CliIO = {
      stdout: Object.assign(sink((s) => { stdout += s; this.lastStdout = stdout; }), { isTTY: false }),
      stderr: sink((s) => (stderr += s)),
      env: { ...process.env, CI: '1', ...options.env },
      cwd: options.cwd ? resolve(this.dir, options.cwd) : this.dir,
      signal: options.signal ?? new AbortController().signal,
    };
    const code = await main(argv, io);
    return { code, stdout, stderr };
  }
}
