import { EXIT, type Command } from '../command.js';
import { intOption, parseCommandArgs } from '../args.js';
import { openPipeline, openStore, stageRegistry } from '../project.js';
import { chooseReporter, createReporter } from '../reporters/index.js';
import { verifyPipeline } from '../../engine/verify.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: "recompute every stage without the cache and compare with the lock file (a reviewer's check)",
  usage: `
usage: polypersona verify [PIPELINE] [--stage ID ...] [--keep] [--jobs N] [--json]

Re-runs the whole pipeline in a private, empty store (your cache is neither read nor written) and
compares each stage's output digest with <pipeline>.lock.yaml. Exit 0 when every stage matches, 1
otherwise. --stage limits the check to those stages (and what they need); --keep leaves the
recomputed artifacts on disk and prints where, for diffing.
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('verify', argv, {
      stage: { type: 'string', multiple: true },
      keep: { type: 'boolean' },
      jobs: { type: 'string', short: 'j' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
    });
    const pipeline = openPipeline(io, positionals[0], values['runs-dir']);
    const reporter = await createReporter(values.json ? 'json' : chooseReporter(io, false), io, values.verbose === true);
    let report;
    try {
      report = await verifyPipeline(pipeline, stageRegistry(), openStore(io, values['runs-dir'], pipeline), {
        stages: values.stage,
        keep: values.keep,
        jobs: intOption('verify', 'jobs', values.jobs),
        threads: intOption('verify', 'threads', values.threads),
        signal: io.signal,
        onEvent: (e) => reporter.onEvent(e),
      });
    } finally {
      await reporter.close();
    }
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ type: 'verify-report', ok: report.ok, lockFile: report.lockFile, stages: report.stages, scratch: report.scratchRunsDir })}\n`);
    } else {
      io.stdout.write(`\nverification against ${report.lockFile}:\n`);
      for (const s of report.stages) {
        const detail =
          s.verdict === 'mismatch'
            ? `expected ${s.expected?.slice(0, 12)}, got ${s.actual?.slice(0, 12)}${s.differingFiles?.length ? `; differing files: ${s.differingFiles.slice(0, 8).join(', ')}` : ''}`
            : s.verdict === 'missing'
              ? 'not in the lock file'
              : s.verdict === 'failed'
                ? 'did not complete'
                : s.actual?.slice(0, 12) ?? '';
        io.stdout.write(`  ${s.verdict === 'match' ? 'ok      ' : s.verdict.toUpperCase().padEnd(8)} ${s.id}  ${detail}\n`);
      }
      const bad = report.stages.filter((s) => s.verdict !== 'match').length;
      io.stdout.write(bad === 0 ? `all ${report.stages.length} stages reproduce the lock file\n` : `${bad} of ${report.stages.length} stages do not reproduce the lock file\n`);
      if (report.scratchRunsDir) io.stdout.write(`recomputed artifacts kept in ${report.scratchRunsDir}\n`);
    }
    if (report.run.status === 'cancelled') return EXIT.cancelled;
    return report.ok ? EXIT.ok : EXIT.failed;
  },
};

export default command;
