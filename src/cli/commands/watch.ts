import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EXIT, formatError, type Command } from '../command.js';

import { intOption, parseCommandArgs } from '../args.js';
import { openStore, pipelinePath, projectRoot, stageRegistry, tryOpenPipeline } from '../project.js';
import { executorOption, executorsFor } from '../executors.js';
import { chooseReporter, reporterFactory } from '../reporters/index.js';
import type { Reporter } from '../reporters/reporter.js';
import { watchPipeline } from '../../engine/watch.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: 're-run what an edit touches, on every save (Ctrl-C to stop)',
  usage: `
usage: polypersona watch [PIPELINE] [--jobs N] [--debounce MS] [--executor KIND] [--json] [--runs-dir DIR]

Watches the pipeline file, question-bank/ and every file a stage depends on. After each save
(debounced), re-runs the stages whose key changed and what depends on them; a save during a run
cancels it and starts again (cluster jobs of the cancelled run are scancelled). A pipeline saved
half-written prints its error and keeps watching. --executor local|slurm sends every stage there
(default: each stage's executor: setting). Each run is shown as \`polypersona run\` shows it: the
live task tree on a terminal, plain lines in a pipe or under CI, JSON lines with --json.
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
    // The same view as `run`: the live task tree on a terminal, plain lines in a pipe, JSON lines.
    const makeReporter = await reporterFactory(chooseReporter(io, values.json === true), io, values.verbose === true);
    let current: Reporter | undefined;
    // Lines of the watcher itself wait for the previous run's view to close, so they never tear it.
    let settled: Promise<unknown> = Promise.resolve();
    const say = (stream: NodeJS.WritableStream, text: string): void => {
      settled = settled.then(() => stream.write(text));
    };
    const bank = join(projectRoot(dirname(file)), 'question-bank');
    try {
      await watchPipeline({
        pipelineFile: file,
        registry: stageRegistry(),
        store: openStore(io, values['runs-dir'], tryOpenPipeline(io, file, values['runs-dir']) ?? { file }),
        extraPaths: existsSync(bank) ? [bank] : [],
        debounceMs: intOption('watch', 'debounce', values.debounce, 0),
        runOptions: { jobs: intOption('watch', 'jobs', values.jobs), executorFor: executorsFor(io.env, override) },
        signal: io.signal,
        onEvent: (e) => {
          switch (e.type) {
            case 'watch-ready':
              say(io.stdout, `watching ${e.paths.length} paths (Ctrl-C to stop)\n`);
              break;
            case 'watch-change':
              say(io.stdout, `changed: ${e.paths.join(', ')}\n`);
              break;
            case 'watch-restart':
              say(io.stdout, 'a change arrived during the run: cancelling it to start again\n');
              break;
            case 'watch-invalid':
              say(io.stderr, `${formatError(e.error, values.verbose === true)}\nstill watching\n`);
              break;
            case 'watch-run-end':
              say(io.stdout, 'waiting for changes\n');
              break;
            case 'run-start': {
              const reporter = makeReporter();
              current = reporter;
              settled = settled.then(() => reporter.onEvent(e));
              break;
            }
            case 'run-end': {
              const reporter = current;
              current = undefined;
              if (reporter) settled = settled.then(() => (reporter.onEvent(e), reporter.close()));
              break;
            }
            default: {
              const reporter = current;
              if (reporter) settled = settled.then(() => reporter.onEvent(e));
            }
          }
        },
      });
    } finally {
      await settled;
      await current?.close();
    }
    return EXIT.ok;
  },
};

export default command;
