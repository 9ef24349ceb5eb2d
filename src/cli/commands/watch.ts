import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, formatError, type Command } from '../command.js';

import { intOption, parseCommandArgs } from '../args.js';
import { openStore, pipelinePath, stageRegistry, tryOpenPipeline } from '../project.js';
import { executorOption, executorsFor } from '../executors.js';
import { PlainReporter } from '../reporters/plain.js';
import { JsonReporter } from '../reporters/json.js';
import { watchPipeline } from '../../engine/watch.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: 're-run what an edit touches, on every save (Ctrl-C to stop)',
  usage: `
usage: polypersona watch [PIPELINE] [--jobs N] [--debounce MS] [--executor KIND] [--json]

Watches the pipeline file, question-bank/ and every file a stage depends on. After each save
(debounced), re-runs the stages whose key changed and what depends on them; a save during a run
cancels it and starts again (cluster jobs of the cancelled run are scancelled). A pipeline
saved half-written prints its error and keeps watching. --executor local|slurm sends every stage
there (default: each stage's executor: setting).
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('watch', argv, {
      jobs: { type: 'string', short: 'j' },
      debounce: { type: 'string' },
      json: { type: 'boolean' },
      executor: { type: 'string' },
    });
    const override = executorOption('watch', values.executor);
    const file = pipelinePath(io, positionals[0]);
    const reporter = values.json ? new JsonReporter(io) : new PlainReporter(io, values.verbose === true);
    const bank = join(io.cwd, 'question-bank');
    await watchPipeline({
      pipelineFile: file,
      registry: stageRegistry(),
      store: openStore(io, values['runs-dir'], tryOpenPipeline(io, file, values['runs-dir'])),
      extraPaths: existsSync(bank) ? [bank] : [],
      debounceMs: intOption('watch', 'debounce', values.debounce, 0),
      runOptions: { jobs: intOption('watch', 'jobs', values.jobs), executorFor: executorsFor(io.env, override) },
      signal: io.signal,
      onEvent: (e) => {
        switch (e.type) {
          case 'watch-ready':
            io.stdout.write(`watching ${e.paths.length} paths (Ctrl-C to stop)\n`);
            break;
          case 'watch-change':
            io.stdout.write(`changed: ${e.paths.join(', ')}\n`);
            break;
          case 'watch-restart':
            io.stdout.write('a change arrived during the run: cancelling it to start again\n');
            break;
          case 'watch-invalid':
            io.stderr.write(`${formatError(e.error, values.verbose === true)}\nstill watching\n`);
            break;
          case 'watch-run-end':
            io.stdout.write('waiting for changes\n');
            break;
          default:
            reporter.onEvent(e);
        }
      },
    });
    return EXIT.ok;
  },
};

export default command;
