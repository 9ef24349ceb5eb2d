import { EXIT, type Command } from '../command.js';
import { intOption, parseCommandArgs } from '../args.js';
import { openPipeline, openStore, stageRegistry } from '../project.js';
import { chooseReporter, createReporter } from '../reporters/index.js';
import { verifyPipeline, type StageVerification } from '../../engine/verify.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: "recompute every stage without the cache and compare with the lock file (a reviewer's check)",
  usage: `
usage: polypersona verify [PIPELINE] [--stage ID ...] [--strict] [--keep] [--jobs N] [--threads N] [--json]

Re-runs the whole pipeline in a private, empty store (your cache is neither read nor written) and
compares each stage's outputs with <pipeline>.lock.yaml, in pipeline order. Per stage:
  identical          the same output digest
  within tolerance   float results (trained weights, sampled text, BERTScore) within the stated
                     tolerance, with the largest deviation; "propagated" when an upstream stage
                     already deviated (downstream stages run on this machine's own outputs)
  different          with the first difference
Exit 0 when every stage is identical or within tolerance, 1 otherwise. --strict accepts identical
only. --stage limits the check to those stages (and what they need); --keep leaves the recomputed
artifacts on disk and prints where, for diffing. Tolerances: docs/reproducibility.md.
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('verify', argv, {
      stage: { type: 'string', multiple: true },
      keep: { type: 'boolean' },
      strict: { type: 'boolean' },
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
        strict: values.strict === true,
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
      io.stdout.write(`\nverification against ${report.lockFile}${report.strict ? ' (strict: bitwise only)' : ''}:\n`);
      const width = Math.max(...report.stages.map((s) => s.id.length), 1);
      for (const s of report.stages) io.stdout.write(`  ${s.id.padEnd(width)}  ${describeVerdict(s)}\n`);
      const count = (v: string): number => report.stages.filter((s) => s.verdict === v).length;
      const bad = report.stages.length - count('identical') - (report.strict ? 0 : count('within-tolerance'));
      io.stdout.write(
        `${count('identical')} identical, ${count('within-tolerance')} within tolerance, ${count('different')} different` +
          `${count('missing') ? `, ${count('missing')} not in the lock file` : ''}${count('failed') ? `, ${count('failed')} failed` : ''}` +
          ` — ${bad === 0 ? 'the lock file is reproduced' : 'the lock file is NOT reproduced'}\n`,
      );
      if (report.scratchRunsDir) io.stdout.write(`recomputed artifacts kept in ${report.scratchRunsDir}\n`);
    }
    if (report.run.status === 'cancelled') return EXIT.cancelled;
    return report.ok ? EXIT.ok : EXIT.failed;
  },
};

/** One stage's line: `identical`, `within tolerance (propagated): …`, `DIFFERENT: …`. */
function describeVerdict(s: StageVerification): string {
  const prop = s.propagated ? ' (propagated)' : '';
  switch (s.verdict) {
    case 'identical':
      return `identical ${s.actual?.slice(0, 12) ?? ''}`;
    case 'within-tolerance':
      return `within tolerance${prop}: ${s.largestDeviation ?? ''}${s.derivedFiles?.length ? `; derived files differ: ${s.derivedFiles.slice(0, 6).join(', ')}${s.derivedFiles.length > 6 ? ', …' : ''}` : ''}`;
    case 'different':
      return `DIFFERENT${prop}: ${s.firstDifference ?? `digest ${s.expected?.slice(0, 12)} -> ${s.actual?.slice(0, 12)}`}`;
    case 'missing':
      return 'MISSING: not in the lock file';
    case 'failed':
      return 'FAILED: did not complete';
  }
}

export default command;
