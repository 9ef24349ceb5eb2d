import { describe, expect, it } from 'vitest';
import { mergeExecutorSettings, parseExecutorFields, slurmTimeSeconds } from '../../../src/engine/executors/settings.js';
import { parsePipeline, PipelineError } from '../../../src/engine/pipeline/index.js';
import { stageKeyInputs } from '../../../src/engine/key-inputs.js';
import { stageKey } from '../../../src/engine/store/index.js';
import { testRegistry } from '../pipeline/fixtures.js';

const lines = (...l: string[]): string => `${l.join('\n')}\n`;

function problems(value: unknown): string[] {
  const out: string[] = [];
  parseExecutorFields(value, (path, message) => out.push(`${path.join('.')}: ${message}`));
  return out;
}

function errorsOf(text: string): string[] {
  try {
    parsePipeline(text, 'p.yaml', testRegistry());
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineError);
    return (err as Error).message.split('\n');
  }
  throw new Error('expected a PipelineError');
}

describe('executor settings', () => {
  it('accepts the shorthand, sbatch-style values, and numbers where sbatch takes them', () => {
    expect(parseExecutorFields('slurm', () => {})).toEqual({ kind: 'slurm' });
    expect(
      parseExecutorFields(
        { kind: 'slurm', partition: 'gpu', time: '1-02:30:00', cpus: 4, mem: '16G', gres: 'gpu:a100:2', account: 'lab_x', qos: 'normal', sbatch_args: ['--constraint=avx512'], setup: 'module load nodejs/20', retries: 0, unavailable_timeout: 0 },
        () => {},
      ),
    ).toEqual({ kind: 'slurm', partition: 'gpu', time: '1-02:30:00', cpus: 4, mem: '16G', gres: 'gpu:a100:2', account: 'lab_x', qos: 'normal', sbatch_args: ['--constraint=avx512'], setup: ['module load nodejs/20'], retries: 0, unavailable_timeout: '0' });
    expect(parseExecutorFields({ mem: 4096, time: 90 }, () => {})).toEqual({ mem: '4096', time: '90' });
  });

  it('names each bad value and what it should look like', () => {
    expect(problems('pbs')).toEqual([': unknown executor "pbs" (one of: local, slurm)']);
    expect(problems(['slurm'])).toEqual([': an executor is one of local, slurm or a map of settings (kind, partition, time, cpus, mem, gres, …)']);
    expect(problems({ cpus: 0, mem: '4 GB', time: '1h', gres: 'gpu 1', partition: 'a b', retries: 11 })).toEqual([
      'cpus: cpus must be an integer ≥ 1, got 0',
      'mem: mem must be megabytes or a size with a K, M, G or T suffix (as sbatch --mem), got "4 GB"',
      'time: time must be a SLURM time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS), got "1h"',
      'gres: gres must look like "gpu:1" or "gpu:a100:2", got "gpu 1"',
      'partition: partition must be a SLURM name (letters, digits, "_", ".", "-", "+"; "," between several), got "a b"',
      'retries: retries must be an integer from 0 to 10, got 11',
    ]);
    expect(problems({ sbatch_args: ['constraint=x'] })).toEqual(['sbatch_args: sbatch_args must be a list of sbatch options, one per item ("--constraint=avx512"), got "constraint=x"']);
    expect(problems({ sbatch_args: ['--output=/tmp/x'] })).toEqual(['sbatch_args: --output is set by polypersona itself (it tracks the job and its log); remove it']);
    expect(problems({ kind: 'slurm', nodes: 2 })).toEqual(['nodes: unknown executor setting "nodes" (known: kind, partition, time, cpus, mem, gres, account, qos, sbatch_args, setup, unavailable_timeout, retries)']);
  });

  it('a stage’s fields win over the pipeline’s; the kind defaults to local', () => {
    expect(mergeExecutorSettings(undefined, undefined)).toEqual({ kind: 'local' });
    expect(mergeExecutorSettings({ kind: 'slurm', partition: 'cpu', mem: '1G' }, { mem: '8G', gres: 'gpu:1' })).toEqual({ kind: 'slurm', partition: 'cpu', mem: '8G', gres: 'gpu:1' });
    expect(mergeExecutorSettings({ kind: 'slurm', partition: 'cpu' }, { kind: 'local' })).toEqual({ kind: 'local', partition: 'cpu' });
  });

  it('reads SLURM time strings as sbatch does (a bare number is minutes)', () => {
    expect(slurmTimeSeconds('0')).toBe(0);
    expect(slurmTimeSeconds('30')).toBe(1800);
    expect(slurmTimeSeconds('2:30')).toBe(150);
    expect(slurmTimeSeconds('1:02:03')).toBe(3723);
    expect(slurmTimeSeconds('2-3')).toBe(2 * 86400 + 3 * 3600);
    expect(slurmTimeSeconds('1-00:10')).toBe(86400 + 600);
    expect(slurmTimeSeconds('1-00:00:05')).toBe(86405);
    expect(slurmTimeSeconds('UNLIMITED')).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('executor: and cache_dir: in a pipeline', () => {
  const text = lines(
    'version: 1',
    'params: { part: gpu, seed: 3 }',
    'cache_dir: ../shared-cache',
    'executor: { kind: slurm, partition: ${{ params.part }}, mem: 2G }',
    'stages:',
    '  personas: { uses: sample-personas, with: { count: 5 } }',
    '  cheap: { uses: sample-personas, with: { count: 6 }, executor: local }',
    '  train:',
    '    uses: sample-personas',
    '    matrix: { gb: [4, 8] }',
    '    with: { count: 7 }',
    '    executor: { mem: "${{ matrix.gb }}G", cpus: ${{ matrix.gb }}, gres: "gpu:1" }',
  );

  it('merges the pipeline’s settings into each stage, with params and matrix values resolved', () => {
    const p = parsePipeline(text, '/proj/pipelines/p.yaml', testRegistry());
    expect(p.cacheDir).toBe('/proj/shared-cache');
    expect(p.stages.get('personas')!.executor).toEqual({ kind: 'slurm', partition: 'gpu', mem: '2G' });
    expect(p.stages.get('cheap')!.executor).toEqual({ kind: 'local', partition: 'gpu', mem: '2G' });
    expect(p.stages.get('train[4]')!.executor).toEqual({ kind: 'slurm', partition: 'gpu', mem: '4G', cpus: 4, gres: 'gpu:1' });
    expect(p.stages.get('train[8]')!.executor).toEqual({ kind: 'slurm', partition: 'gpu', mem: '8G', cpus: 8, gres: 'gpu:1' });
  });

  it('a pipeline without executor: leaves stages without settings (they run locally)', () => {
    const p = parsePipeline(lines('version: 1', 'stages:', '  a: { uses: sample-personas }'), 'p.yaml', testRegistry());
    expect(p.stages.get('a')!.executor).toBeUndefined();
    expect(p.cacheDir).toBeUndefined();
  });

  it('never changes a stage key', async () => {
    const plain = parsePipeline(lines('version: 1', 'params: { seed: 3 }', 'stages:', '  personas: { uses: sample-personas, with: { count: 5 } }'), '/proj/pipelines/p.yaml', testRegistry());
    const onCluster = parsePipeline(text, '/proj/pipelines/p.yaml', testRegistry());
    const key = async (p: typeof plain): Promise<string> => stageKey(await stageKeyInputs(p.stages.get('personas')!, {}, p.dir, p.seed));
    expect(await key(onCluster)).toBe(await key(plain));
  });

  it('reports bad settings at their line and column', () => {
    expect(
      errorsOf(
        lines(
          'version: 1',
          'executor: { kind: slurm, memory: 2G }',
          'stages:',
          '  a:',
          '    uses: sample-personas',
          '    executor: { cpus: two }',
          '  b:',
          '    uses: sample-personas',
          '    matrix: { n: [0, 1] }',
          '    executor: { kind: pbs, cpus: ${{ matrix.n }} }',
        ),
      ),
    ).toEqual([
      'p.yaml:2:26: executor.memory: unknown field; known fields: account, cpus, gres, kind, mem, partition, qos, retries, sbatch_args, setup, time, unavailable_timeout',
      'p.yaml:6:23: stages.a.executor.cpus: cpus must be an integer ≥ 1, got "two"',
      'p.yaml:10:23: stages.b.executor.kind: unknown executor kind "pbs" (one of: local, slurm)',
      'p.yaml:10:34: stages.b.executor.cpus: cpus must be an integer ≥ 1, got 0',
    ]);
    expect(errorsOf(lines('version: 1', 'executor: { kind: slurm, cpus: ${{ stages.a.outputs.dir }} }', 'stages:', '  a: { uses: sample-personas }'))).toEqual([
      'p.yaml:2:32: executor.cpus: ${{ stages.a.outputs.dir }} is known only when the stage runs; it may stand in with, run and env, not in executor',
    ]);
  });
});
