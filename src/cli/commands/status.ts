import { EXIT, type Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { openPipeline, openStore, RUNS_DIR_HELP } from '../project.js';
import { pipelineStatus } from '../../engine/status.js';
import { shortKey } from '../reporters/reporter.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: 'per stage: cached, or stale and why (which param, input or dep changed)',
  usage: `
usage: polypersona status [PIPELINE ...] [--json] [--runs-dir DIR]

Reads the cache and the lock file; runs nothing. Exit code 0 whether or not stages are stale.
With several pipelines, one section each (--json: an array, one object per pipeline).

options:
  --json           { pipeline, stages: [{ id, type, state, key, reasons, dir }] }
  --runs-dir DIR   ${RUNS_DIR_HELP}
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('status', argv, { json: { type: 'boolean' } });
    const files = positionals.length > 0 ? positionals : [undefined];
    const reports = [];
    for (const [i, file] of files.entries()) {
      const pipeline = openPipeline(io, file, values['runs-dir']);
      const statuses = await pipelineStatus(pipeline, openStore(io, values['runs-dir'], pipeline));
      if (values.json) {
        reports.push({ pipeline: pipeline.name, stages: statuses.map(({ entry, ...s }) => ({ ...s, dir: entry?.outDir })) });
        continue;
      }
      if (files.length > 1) io.stdout.write(`${i > 0 ? '\n' : ''}${pipeline.name} (${file}):\n`);
      const width = Math.max(...statuses.map((s) => s.id.length), 5);
      for (const s of statuses) {
        const head = `${s.id.padEnd(width)}  ${s.state.padEnd(7)}  ${s.key ? shortKey(s.key) : '-'.padEnd(12)}`;
        io.stdout.write(`${head}${s.reasons.length ? `  ${s.reasons.join('; ')}` : ''}\n`);
      }
      const stale = statuses.filter((s) => s.state !== 'cached').length;
      io.stdout.write(`${statuses.length - stale} cached, ${stale} to run\n`);
    }
    if (values.json) io.stdout.write(`${JSON.stringify(files.length > 1 ? reports : reports[0], null, 2)}\n`);
    return EXIT.ok;
  },
};

export default command;
