import { EXIT, type Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { stageRegistry } from '../project.js';
import { runJobFile } from '../../engine/executors/exec-job.js';
import { unreachable, UserError } from '../../core/errors.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: 'build one stage from a job file into the cache (what cluster jobs run)',
  usage: `
usage: polypersona exec-job JOB.json

Builds the one cache entry a job file describes, here, against the cache the file names, exactly
as \`run\` would build it locally, and writes the outcome to the file's result path. This is the
command the slurm executor's batch jobs run; any other scheduler can run job files the same way
(the format is in docs/cluster.md). Exit codes: 0 published (or already cached), 1 the stage
failed, 2 a bad job file, 130 cancelled (SIGTERM, e.g. scancel).
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { positionals } = parseCommandArgs('exec-job', argv, {});
    if (positionals.length !== 1) throw new UserError('usage', 'exec-job: give exactly one job file (see `polypersona exec-job --help`)');
    const result = await runJobFile(positionals[0]!, stageRegistry(), {
      signal: io.signal,
      log: (line) => io.stdout.write(`${line}\n`),
      env: io.env,
    });
    switch (result.status) {
      case 'published':
      case 'cached':
        return EXIT.ok;
      case 'cancelled':
        return EXIT.cancelled;
      case 'failed':
        io.stderr.write(`error: ${result.error?.message ?? 'the stage failed'}\n`);
        return EXIT.failed;
      default: {
        return unreachable(result.status);
      }
    }
  },
};

export default command;
