import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../core/atomic.js';
import { isAbsolute, join, relative } from 'node:path';
import { EXIT, type Command } from '../command.js';
import { intOption, parseCommandArgs } from '../args.js';
import { openPipeline, openStore, RUNS_DIR_HELP, stageRegistry } from '../project.js';
import { chooseReporter, createReporter } from '../reporters/index.js';
import { latestDir, latestLink, linkLatest } from '../latest.js';
import { producedKind } from '../../engine/contract.js';
import { runPipeline, type RunSummary } from '../../engine/scheduler.js';
import { parseOverride, type LoadedPipeline } from '../../engine/pipeline/index.js';
import { executorOption, executorsFor } from '../executors.js';
import type { CliIO } from '../io.js';
import { UserError } from '../../core/errors.js';

const OPTIONS = {
  stage: { type: 'string', multiple: true },
  set: { type: 'string', short: 'S', multiple: true },
  force: { type: 'boolean' },
  downstream: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  jobs: { type: 'string', short: 'j' },
  threads: { type: 'string' },
  'keep-going': { type: 'boolean', short: 'k' },
  'no-wait': { type: 'boolean' },
  'verify-cache': { type: 'boolean' },
  json: { type: 'boolean' },
  executor: { type: 'string' },
} as const;

const command: Command = {
  summary: 'run what is stale in a pipeline (cached stages are reused)',
  usage: `
usage: polypersona run [PIPELINE] [options]

Runs every stage whose key has no cache entry, in dependency order; unchanged stages are reused.
PIPELINE defaults to polypersona.yaml, pipeline.yaml or pipelines/smoke.yaml in this folder.
After the run, runs/latest/<pipeline>/<stage> links to each stage's output (see \`polypersona
outputs\`), and the report's path is printed.

options:
  --stage ID        run just this stage (repeatable); its inputs come from the cache, or are built first
  -S, --set NAME=VALUE
                    run with a param changed, without editing the file (repeatable): a pipeline
                    param (seed=8, params.seed=8) or a stage's with: value by path
                    (adapter.learning_rate=1e-4, dataset.teacher.kind=template,
                    stages.adapter.with.r=8); VALUE is read as YAML. Recorded in the run history;
                    the lock file is left as the file says
  --force           ignore the cache for the selected stages (all stages without --stage)
  --downstream      also rerun the stages that depend on the selected ones
  --dry-run         say what would run and why; run nothing
  -j, --jobs N      independent stages at once (default 1); exclusive stages (training, generation) run alone
  --threads N       threads for compute stages (default: all cores)
  -k, --keep-going  after a failure, go on with stages that do not depend on it
  --no-wait         exit at once if another run is writing the same cache entry (default: wait)
  --verify-cache    re-hash every cache hit before using it
  --executor KIND   where stages run: local or slurm, for every stage (default: each stage's executor: setting)
  --json            one JSON event per line on stdout (progress events carry rate and etaMs)
  --runs-dir DIR    ${RUNS_DIR_HELP}
  --verbose         show debug output and stack traces

Ctrl-C cancels the run: running stages stop, finished ones stay cached, the run is recorded,
and the exit code is 130 (a second Ctrl-C exits at once).
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('run', argv, OPTIONS);
    if (positionals.length > 1) throw new UserError('usage', `run: one pipeline at a time, got ${positionals.length} (${positionals.join(', ')})`);
    const overrides = (values.set ?? []).map(parseOverride);
    const pipeline = openPipeline(io, positionals[0], values['runs-dir'], { overrides });
    const store = openStore(io, values['runs-dir'], pipeline);
    const override = executorOption('run', values.executor);
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
        // The lock file records the pipeline as written; a run with overrides is an experiment.
        writeLock: overrides.length === 0,
        signal: io.signal,
        executorFor: executorsFor(io.env, override),
        onEvent: (e) => reporter.onEvent(e),
        argv: ['run', ...argv],
      });
    } finally {
      await reporter.close();
    }
    if (!values['dry-run']) {
      if (summary.historyFile) recordMetrics(summary.historyFile, pipeline, summary);
      linkLatest(store.runsDir, pipeline.name, outputsOf(summary));
      if (!values.json) printWhereTo(io, pipeline, store.runsDir, summary);
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

/**
 * Adds the run's metrics to its history record: for each stage producing scores, metrics.json's
 * overall / by_domain / by_question_type, under `metrics.<stage id>`. Run comparisons read them
 * there, even after gc removed the entries.
 */
function recordMetrics(historyFile: string, pipeline: LoadedPipeline, summary: RunSummary): void {
  const metrics: Record<string, unknown> = {};
  for (const r of summary.results.values()) {
    const stage = pipeline.stages.get(r.id);
    if (!r.entry || !stage || producedKind(stage) !== 'scores') continue;
    const file = join(r.entry.outDir, 'metrics.json');
    if (!existsSync(file)) continue;
    try {
      const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      metrics[r.id] = { overall: m.overall, ...(m.by_domain ? { by_domain: m.by_domain } : {}), ...(m.by_question_type ? { by_question_type: m.by_question_type } : {}) };
    } catch {
      // A scores entry without readable metrics: the record simply lacks them.
    }
  }
  if (Object.keys(metrics).length === 0) return;
  const record = JSON.parse(readFileSync(historyFile, 'utf8')) as Record<string, unknown>;
  writeFileAtomic(historyFile, `${JSON.stringify({ ...record, metrics }, null, 2)}\n`);
}

function outputsOf(summary: RunSummary): Array<{ id: string; outDir: string }> {
  return [...summary.results.values()].flatMap((r) => (r.entry && (r.outcome === 'ran' || r.outcome === 'cached') ? [{ id: r.id, outDir: r.entry.outDir }] : []));
}

/** The report's path (stages producing a report), then where the other outputs are. */
export function printWhereTo(io: CliIO, pipeline: LoadedPipeline, runsDir: string, summary: RunSummary): void {
  // Relative to where the user stands when that is inside it, else absolute.
  const shown = (path: string): string => {
    const rel = relative(io.cwd, path);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
  };
  for (const r of summary.results.values()) {
    const stage = pipeline.stages.get(r.id);
    if (!r.entry || !stage || producedKind(stage) !== 'report') continue;
    const link = latestLink(runsDir, pipeline.name, r.id);
    const file = ['report.md', 'index.html'].map((f) => join(link, f)).find((f) => existsSync(f)) ?? link;
    io.stdout.write(`report: ${shown(file)}\n`);
  }
  if (outputsOf(summary).length > 0) io.stdout.write(`outputs: ${shown(latestDir(runsDir, pipeline.name))}/<stage> (polypersona outputs STAGE)\n`);
}

export default command;
