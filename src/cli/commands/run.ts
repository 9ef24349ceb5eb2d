import { EXIT, type Command } from '../command.js';
import { intOption, parseCommandArgs } from '../args.js';
import { openPipeline, openStore, stageRegistry } from '../project.js';
import { chooseReporter, createReporter } from '../reporters/index.js';
import { runPipeline } from '../../engine/scheduler.js';
import type { CliIO } from '../io.js';

const OPTIONS = {
  stage: { type: 'string', multiple: true },
  force: { type: 'boolean' },
  downstream: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  jobs: { type: 'string', short: 'j' },
  threads: { type: 'string' },
  'keep-going': { type: 'boolean', short: 'k' },
  'no-wait': { type: 'boolean' },
  'verify-cache': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const command: Command = {
  summary: 'run what is stale in a pipeline (cached stages are reused)',
  usage: `
usage: polypersona run [PIPELINE] [options]

Runs every stage whose key has no cache entry, in dependency order; unchanged stages are reused.
PIPELINE defaults to polypersona.yaml, pipeline.yaml or pipelines/smoke.yaml in this folder.

options:
  --stage ID        run just this stage (repeatable); its inputs come from the cache, or are built first
  --force           ignore the cache for the selected stages (all stages without --stage)
  --downstream      also rerun the stages that depend on the selected ones
  --dry-run         say what would run and why; run nothing
  -j, --jobs N      independent stages at once (default 1); exclusive stages (training, generation) run alone
  --threads N       threads for compute stages (default: all cores)
  -k, --keep-going  after a failure, go on with stages that do not depend on it
  --no-wait         exit at once if another run is writing the same cache entry (default: wait)
  --verify-cache    re-hash every cache hit before using it
  --json            one JSON event per line on stdout
  --runs-dir DIR    cache and run records (default: ./runs, or $POLYPERSONA_RUNS_DIR)
  --verbose         show debug output and stack traces
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('run', argv, OPTIONS);
    const pipeline = openPipeline(io, positionals[0], values['runs-dir']);
    const store = openStore(io, values['runs-dir']);
    const reporter = await createReporter(chooseReporter(io, values.json === true), io, values.verbose === true);
    let summary;
    try {
      summary = await runPipeline(pipeline, store, stageRegistry(), {
        stages: values.stage,
        force: values.force,
        downstream: values.downstream,
        dryRun: values['dry-run'],
        jobs: intOption('run', 'jobs', values.jobs),
        threads: intOption('run', 'threads', values.threads),
        keepGoing: values['keep-going'],
        wait: !values['no-wait'],
        verifyCache: values['verify-cache'],
        signal: io.signal,
        onEvent: (e) => reporter.onEvent(e),
        argv: ['run', ...argv],
      });
    } finally {
      await reporter.close();
    }
    const failures = [...summary.results.values()].filter((r) => r.outcome === 'failed');
    for (const f of failures) {
      io.stderr.write(`error: ${f.error?.message ?? `stage ${f.id} failed`}\n`);
      if (values.verbose && f.error?.cause instanceof Error && f.error.cause.stack) io.stderr.write(`${f.error.cause.stack}\n`);
    }
    if (summary.status === 'cancelled') return EXIT.cancelled;
    if (failures.length === 0) return EXIT.ok;
    // A stage that failed because of what the user wrote (bad data, bad params) is still exit 1:
    // the pipeline validated; the run failed.
    return EXIT.failed;
  },
};

export default command;
