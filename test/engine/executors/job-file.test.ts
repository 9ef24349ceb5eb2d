import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../../src/core/errors.js';
import { readJobFile, readJobResult, RESULT_FORMAT, writeJobFile, writeJobResult, type ExecJobFile, type ExecJobResult } from '../../../src/engine/executors/job-file.js';
import { testDigest, testKey } from '../../helpers/fingerprints.js';

/** A well-formed job file with one input whose own producer had one input (nested upstream). */
function job(): ExecJobFile {
  const upstream = { stageId: 'base', type: 'init-model', kind: 'model', dir: '/c/base/out', digest: testDigest('base'), key: testKey('base'), upstream: [] };
  return {
    format: 'polypersona-exec-job',
    version: 1,
    store: { runs_dir: '/r', cache_dir: '/c', work_dir: '/w' },
    lock: 'caller',
    result: '/j/result.json',
    executor: 'slurm',
    task: {
      key: testKey('adapter'),
      stageId: 'adapter',
      type: 'lora-train',
      version: 1,
      pipeline: 'p',
      params: {},
      inputs: [{ stageId: 'model', type: 'init-model', kind: 'model', dir: '/c/model/out', digest: testDigest('model'), key: testKey('model'), upstream: [upstream] }],
      pipelineDir: '/p',
      seed: 1,
      threads: 1,
      record: { params: {}, inputs: { model: testDigest('model') }, deps: {} },
      replace: false,
    },
  };
}

/** The file's error when read, after `spoil` changed the parsed JSON. */
function errorAfter(spoil: (j: any) => void): unknown {
  const dir = mkdtempSync(join(tmpdir(), 'pp-job-file-'));
  try {
    const path = join(dir, 'job.json');
    const j = JSON.parse(JSON.stringify(job()));
    spoil(j);
    writeFileSync(path, JSON.stringify(j));
    try {
      readJobFile(path);
      return undefined;
    } catch (err) {
      return err;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('job files: stage keys and output digests are checked where they are read', () => {
  it('reads back a well-formed job file unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-job-file-'));
    try {
      writeJobFile(join(dir, 'job.json'), job());
      expect(readJobFile(join(dir, 'job.json'))).toEqual(job());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each<[string, (j: any) => void, string]>([
    ['a short task key', (j) => (j.task.key = 'abc'), '"task.key" must be a stage key (64 hex characters)'],
    ['an upper-case input digest', (j) => (j.task.inputs[0].digest = j.task.inputs[0].digest.toUpperCase()), '"task.inputs[0].digest" must be an output digest (64 hex characters)'],
    ['an input key that is a path', (j) => (j.task.inputs[0].key = '../../etc'), '"task.inputs[0].key" must be a stage key (64 hex characters)'],
    ['a nested upstream digest', (j) => (j.task.inputs[0].upstream[0].digest = 'd'), '"task.inputs[0].upstream[0].digest" must be an output digest (64 hex characters)'],
    ['a record input digest', (j) => (j.task.record.inputs.model = 42), '"task.record.inputs.model" must be an output digest (64 hex characters)'],
  ])('rejects %s with a bad-job-file error naming the field', (_what, spoil, why) => {
    const err = errorAfter(spoil);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ code: 'bad-job-file' });
    expect((err as Error).message).toMatch(new RegExp(`^job file .*job\\.json: ${why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it('treats a result file with a malformed key or digest as no result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-job-file-'));
    try {
      const path = join(dir, 'result.json');
      const good: ExecJobResult = { format: RESULT_FORMAT, version: 1, key: testKey('a'), status: 'published', outputDigest: testDigest('a'), host: 'h', pid: 1, startedAt: '', finishedAt: '' };
      writeJobResult(path, good);
      expect(readJobResult(path)).toEqual(good);
      writeFileSync(path, JSON.stringify({ ...good, outputDigest: 'x' }));
      expect(readJobResult(path)).toBeUndefined();
      writeFileSync(path, JSON.stringify({ ...good, key: 'x'.repeat(64) }));
      expect(readJobResult(path)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
