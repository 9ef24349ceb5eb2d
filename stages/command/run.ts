import { existsSync, realpathSync } from 'node:fs';
import { relative, resolve, isAbsolute, sep } from 'node:path';
import { execa } from 'execa';
import type { StageContext } from '../../src/engine/contract.js';
import { StageFailure, UserError } from '../../src/core/errors.js';
import type { CommandParams } from './params.js';

/** How many trailing output lines a failure message quotes. */
const TAIL_LINES = 12;

export async function runCommand(ctx: StageContext<CommandParams>): Promise<void> {
  const { run, env, outs } = ctx.params;
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  const child = execa('sh', ['-c', run], {
    cwd: ctx.pipelineDir,
    env: { ...env, POLYPERSONA_OUTPUTS_DIR: ctx.outDir, POLYPERSONA_SEED: String(ctx.seed) },
    extendEnv: true,
    stdin: 'ignore',
    reject: false,
    cancelSignal: ctx.signal,
    forceKillAfterDelay: 2000,
    lines: false,
    buffer: false,
  });
  const pump = (stream: NodeJS.ReadableStream | null, level: 'info' | 'warn'): Promise<void> =>
    new Promise((done) => {
      if (!stream) return done();
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          remember(line);
          ctx.log[level](line);
        }
      });
      stream.on('end', () => {
        if (pending) {
          remember(pending);
          ctx.log[level](pending);
        }
        done();
      });
    });
  const [result] = await Promise.all([child, pump(child.stdout, 'info'), pump(child.stderr, 'warn')]);
  if (ctx.signal.aborted) throw ctx.signal.reason;
  if (result.exitCode !== 0) {
    const quoted = tail.length > 0 ? `\nlast output:\n  ${tail.join('\n  ')}` : '';
    const why =
      result.exitCode === 127
        ? 'the command was not found (exit 127)'
        : result.signal
          ? `it was killed by ${result.signal}`
          : `it exited with code ${result.exitCode}`;
    throw new StageFailure('command-failed', `command stage "${ctx.stageId}" failed: ${why}: sh -c ${JSON.stringify(run)}${quoted}`);
  }
  checkOutputs(ctx.stageId, ctx.outDir, outs);
}

/** Every declared output must exist and stay inside the stage's output folder (symlinks resolved). */
export function checkOutputs(stageId: string, outDir: string, outs: string[]): void {
  const root = realpathSync(outDir);
  for (const out of outs) {
    const path = resolve(outDir, out);
    if (isAbsolute(out) || escapes(outDir, path)) {
      throw new UserError('output-escapes', `command stage "${stageId}": output "${out}" is outside its output folder`);
    }
    if (!existsSync(path)) {
      throw new StageFailure('missing-output', `command stage "${stageId}" did not create its declared output "${out}" in \${{ outputs.dir }}`);
    }
    if (escapes(root, realpathSync(path))) {
      throw new UserError('output-escapes', `command stage "${stageId}": output "${out}" resolves outside its output folder (a symlink?)`);
    }
  }
}

function escapes(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}
