/**
 * The batch job for one stage: the sbatch options (passed as arguments, never through a shell)
 * and the job script, which only runs the setup lines and then `exec`s `polypersona exec-job
 * JOB.json`, so that scancel's SIGTERM reaches polypersona itself (it then stops the stage and
 * discards its staging dir). The script states the sbatch command line in a comment, so that a
 * user can resubmit it by hand.
 */
import type { ExecutorSettings } from '../settings.js';
import type { StageKey } from '../../store/index.js';

export interface JobScriptInput {
  stageId: string;
  key: StageKey;
  jobName: string;
  jobFile: string;
  logFile: string;
  /** The job's working directory: the pipeline's folder, as for a local run. */
  chdir: string;
  /** argv that starts polypersona on the node: [node, …/main.js]. */
  polypersona: string[];
  settings: ExecutorSettings;
}

/** sbatch options for a stage, from its executor settings. */
export function sbatchArgs(input: JobScriptInput): string[] {
  const s = input.settings;
  const args = [
    `--job-name=${input.jobName}`,
    `--output=${input.logFile}`,
    // A job requeued after a node failure appends to the same log instead of truncating it.
    '--open-mode=append',
    `--chdir=${input.chdir}`,
  ];
  if (s.partition) args.push(`--partition=${s.partition}`);
  if (s.time) args.push(`--time=${s.time}`);
  if (s.cpus) args.push(`--cpus-per-task=${s.cpus}`);
  if (s.mem) args.push(`--mem=${s.mem}`);
  if (s.gres) args.push(`--gres=${s.gres}`);
  if (s.account) args.push(`--account=${s.account}`);
  if (s.qos) args.push(`--qos=${s.qos}`);
  args.push(...(s.sbatch_args ?? []));
  return args;
}

export function jobScript(input: JobScriptInput, args: string[]): string {
  const lines = [
    '#!/bin/sh',
    `# polypersona stage ${JSON.stringify(input.stageId)}, key ${input.key}.`,
    '# Written by the slurm executor; submitted as:',
    `#   sbatch ${args.map(shellQuote).join(' ')} ${shellQuote(`${input.jobFile.replace(/job\.json$/, 'job.sh')}`)}`,
    ...(input.settings.setup ?? []),
    `exec ${[...input.polypersona, 'exec-job', input.jobFile].map(shellQuote).join(' ')}`,
    '',
  ];
  return lines.join('\n');
}

/** One POSIX-shell word: single-quoted unless it is plainly safe. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A job name squeue shows usefully: `pp-<stage id, sanitised>-<key prefix>`, at most 64 characters. */
export function jobNameFor(stageId: string, key: StageKey): string {
  const id = stageId.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 40);
  return `pp-${id}-${key.slice(0, 12)}`;
}
