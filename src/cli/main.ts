#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { failureOf, UserError } from '../core/errors.js';
import { EXIT, exitCodeOf, formatError, type Command } from './command.js';
import type { CliIO } from './io.js';

/** Commands are loaded lazily so that `status` or a cached `run` never pays for model libraries. */
const COMMANDS: Record<string, () => Promise<{ default: Command }>> = {
  run: () => import('./commands/run.js'),
  status: () => import('./commands/status.js'),
  dag: () => import('./commands/dag.js'),
  show: () => import('./commands/show.js'),
  outputs: () => import('./commands/outputs.js'),
  watch: () => import('./commands/watch.js'),
  verify: () => import('./commands/verify.js'),
  diff: () => import('./commands/diff.js'),
  gc: () => import('./commands/gc.js'),
  stages: () => import('./commands/stages.js'),
  model: () => import('./commands/model.js'),
  generate: () => import('./commands/generate.js'),
  serve: () => import('./commands/serve.js'),
  score: () => import('./commands/score.js'),
  'exec-job': () => import('./commands/exec-job.js'),
};

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  const verbose = rest.includes('--verbose');
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      io.stdout.write(await overview());
      return name ? EXIT.ok : EXIT.usage;
    }
    if (name === '--version') {
      io.stdout.write(`${await packageVersion()}\n`);
      return EXIT.ok;
    }
    const load = COMMANDS[name];
    if (!load) throw new UserError('usage', `unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
    const command = (await load()).default;
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(`${command.usage.trim()}\n`);
      return EXIT.ok;
    }
    return await command.run(rest, io);
  } catch (err) {
    io.stderr.write(`${formatError(err, verbose)}\n`);
    // The cancellation reason main() aborts with is itself a UserError: an aborted run is cancelled first.
    return exitCodeOf(failureOf(err, io.signal.aborted));
  }
}

async function overview(): Promise<string> {
  const lines = ['polypersona — reproducible PolyPersona pipelines', '', 'usage: polypersona COMMAND [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${(await load()).default.summary}`);
  lines.push('', 'Run `polypersona COMMAND --help` for a command\'s options. Exit codes: 0 ok, 1 failed, 2 usage/validation error, 130 cancelled.', '');
  return lines.join('\n');
}

async function packageVersion(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { packageRoot } = await import('../core/paths.js');
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.cancelled);
    controller.abort(new UserError('cancelled', `cancelled by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The reader of our output went away (`polypersona run --json | head -1`, `stages | head -3`):
  // like a program killed by SIGPIPE, stop quietly. A long command is cancelled the normal way
  // (its run record is written); nothing more is printed.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
      if (!controller.signal.aborted) controller.abort(new UserError('cancelled', 'the output pipe was closed'));
    });
  }
  const io: CliIO = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal: controller.signal };
  const code = await main(process.argv.slice(2), io);
  process.exitCode = code;
}
