import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { jobNameFor, jobScript, sbatchArgs, shellQuote } from '../../../../src/engine/executors/slurm/script.js';
import { parseStageKey } from '../../../../src/engine/store/index.js';

describe('the batch job of a stage', () => {
  const input = {
    stageId: 'adapter[model=phi-2]',
    key: parseStageKey('ab'.repeat(32)),
    jobName: jobNameFor('adapter[model=phi-2]', parseStageKey('ab'.repeat(32))),
    jobFile: "/shared/it's here/.jobs/x/job.json",
    logFile: '/shared/cache/.jobs/x/job.log',
    chdir: '/home/me/project with space',
    polypersona: ['/usr/bin/node', '/home/me/pp/dist/src/cli/main.js'],
    settings: { kind: 'slurm' as const, partition: 'gpu', time: '2:00:00', cpus: 4, mem: '16G', gres: 'gpu:1', account: 'lab', qos: 'high', sbatch_args: ['--constraint=avx512'], setup: ['module load nodejs/20'] },
  };

  it('passes the stage’s resources to sbatch as arguments, in sbatch’s own syntax', () => {
    expect(sbatchArgs(input)).toEqual([
      `--job-name=pp-adapter_model_phi-2_-abababababab`,
      '--output=/shared/cache/.jobs/x/job.log',
      '--open-mode=append',
      '--chdir=/home/me/project with space',
      '--partition=gpu',
      '--time=2:00:00',
      '--cpus-per-task=4',
      '--mem=16G',
      '--gres=gpu:1',
      '--account=lab',
      '--qos=high',
      '--constraint=avx512',
    ]);
    expect(sbatchArgs({ ...input, settings: { kind: 'slurm' } })).toHaveLength(4);
  });

  it('runs the setup lines, then execs polypersona exec-job with every path quoted for sh', () => {
    const script = jobScript(input, sbatchArgs(input));
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain('\nmodule load nodejs/20\n');
    expect(script).toContain(`\nexec /usr/bin/node /home/me/pp/dist/src/cli/main.js exec-job '/shared/it'\\''s here/.jobs/x/job.json'\n`);
    // The exec line is read back by a real shell as the same words.
    const exec = script.split('\n').find((l) => l.startsWith('exec '))!;
    const words = execFileSync('sh', ['-c', `set -- ${exec.slice('exec '.length)}; for w in "$@"; do printf '%s\\n' "$w"; done`], { encoding: 'utf8' });
    expect(words.trimEnd().split('\n')).toEqual(['/usr/bin/node', '/home/me/pp/dist/src/cli/main.js', 'exec-job', "/shared/it's here/.jobs/x/job.json"]);
  });

  it('quotes only what needs it', () => {
    expect(shellQuote('/a/b-c_d.e')).toBe('/a/b-c_d.e');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('$(touch x)')).toBe("'$(touch x)'");
    expect(shellQuote('')).toBe("''");
  });

  it('names jobs by stage and key prefix, readable in squeue', () => {
    expect(jobNameFor('personas', parseStageKey('0123456789abcdef'.repeat(4)))).toBe('pp-personas-0123456789ab');
    expect(jobNameFor('x'.repeat(80), parseStageKey('f'.repeat(64))).length).toBeLessThanOrEqual(64);
  });
});
