import { EXIT, type Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { openPipeline, openStore } from '../project.js';
import { pipelineStatus } from '../../engine/status.js';
import { shortKey } from '../reporters/reporter.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: 'per stage: cached, or stale and why (which param, input or dep changed)',
  usage: `
usage: polypersona status [PIPELINE] [--json] [--runs-dir DIR]

Reads the cache and the lock file; runs nothing. Exit code 0 whether or not stages are stale.
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('status', argv, { json: { type: 'boolean' } });
    const pipeline = openPipeline(io, positionals[0], values['runs-dir']);
    const statuses = await pipelineStatus(pipeline, openStore(io, values['runs-dir'], pipeline));
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ pipeline: pipeline.name, stages: statuses.map(({ entry, ...s }) => ({ ...s, dir: entry?.outDir })) }, null, 2)}\n`);
      return EXIT.ok;
    }
    const width = Math.max(...statuses.map((s) => s.id.length), 5);
    for (const s of statuses) {
      const head = `${s.id.padEnd(width)}  ${s.state.padEnd(7)}  ${s.key ? shortKey(s.key) : '-'.padEnd(12)}`;
      io.stdout.write(`${head}${s.reasons.length ? `  ${s.reasons.join('; ')}` : ''}\n`);
    }
    const stale = statuses.filter((s) => s.state !== 'cached').length;
    io.stdout.write(`${statuses.length - stale} cached, ${stale} to run\n`);
    return EXIT.ok;
  },
};

export default command;
