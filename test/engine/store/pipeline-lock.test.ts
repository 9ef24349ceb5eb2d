import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import { ArtifactStore, lockedStageOf, parseOutputDigest, parseStageKey, lockFilePath, readPipelineLock, sameLock, writePipelineLock, type PipelineLock } from '../../../src/engine/store/index.js';
import { draftFor, keyFor } from './fixtures.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pp-lockfile-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const h = (c: string): string => c.repeat(64);

function sample(): PipelineLock {
  return {
    version: 2,
    pipeline: 'smoke',
    stages: {
      personas: {
        type: 'sample-personas',
        version: 1,
        key: parseStageKey(h('a')),
        params: { seed: 7, count: 40, nested: { z: 1, a: [3, { y: 'yes', b: null }] }, lr: 2.0e-4, label: '0123' },
        inputs: {},
        deps: { 'question-bank': h('d') },
        outputs: { digest: parseOutputDigest(h('e')), files: 2, bytes: 1234 },
        check: {
          files: { 'personas.jsonl': h('1'), 'metrics.json': h('2') },
          metrics: { 'metrics.json': { 'overall.bleu': 0.125, 'by_domain.a.rouge1': 1e-7 } },
          tensors: { 'w.safetensors': { 'layers.0.w': { shape: '2x3', norm: 1.2345678901234567, proj: -0.1 } } },
          predictions: { 'predictions.jsonl': { records: 2, ids: '0123456789abcdef', texts: '01234567 89abcdef' } },
        },
      },
      'adapter[model=phi-2]': {
        type: 'lora-train',
        version: 3,
        key: parseStageKey(h('b')),
        params: null,
        inputs: { personas: parseOutputDigest(h('e')), chatml: parseOutputDigest(h('f')) },
        deps: {},
        outputs: { digest: parseOutputDigest(h('0')), files: 0, bytes: 0 },
      },
    },
  };
}

describe('lockFilePath', () => {
  it('sits beside the pipeline', () => {
    expect(lockFilePath('/p/pipelines/smoke.yaml')).toBe('/p/pipelines/smoke.lock.yaml');
    expect(lockFilePath('pipelines/paper.yml')).toBe('pipelines/paper.lock.yml');
    expect(lockFilePath('/p/pipeline')).toBe('/p/pipeline.lock.yaml');
  });
});

describe('pipeline lock file', () => {
  it('round-trips, keeping stage order and values', () => {
    const path = join(dir, 'smoke.lock.yaml');
    writePipelineLock(path, sample());
    const back = readPipelineLock(path);
    expect(back).toEqual(sample());
    expect(Object.keys(back!.stages)).toEqual(['personas', 'adapter[model=phi-2]']);
  });

  it('is deterministic: same lock (any key order) -> same bytes, with a header comment', () => {
    const a = join(dir, 'a.lock.yaml');
    const b = join(dir, 'b.lock.yaml');
    writePipelineLock(a, sample());
    const shuffled = sample();
    const p = shuffled.stages.personas!;
    shuffled.stages.personas = { ...p, params: { label: '0123', lr: 2.0e-4, nested: { a: [3, { b: null, y: 'yes' }], z: 1 }, count: 40, seed: 7 } };
    writePipelineLock(b, shuffled);
    const text = readFileSync(a, 'utf8');
    expect(readFileSync(b, 'utf8')).toBe(text);
    expect(text.startsWith('# polypersona lock file for pipeline "smoke"')).toBe(true);
    // params keys sorted inside; fields in a fixed order
    expect(text.indexOf('count: 40')).toBeLessThan(text.indexOf('seed: 7'));
    expect(text.indexOf('type: sample-personas')).toBeLessThan(text.indexOf(`key: ${h('a')}`));
    // a digit-only string stays a string
    expect(text).toMatch(/label: "0123"|label: '0123'/);
  });

  it('returns undefined when there is no lock file', () => {
    expect(readPipelineLock(join(dir, 'none.lock.yaml'))).toBeUndefined();
  });

  it('names file:line for malformed YAML', () => {
    const path = join(dir, 'bad.lock.yaml');
    writeFileSync(path, 'version: 1\npipeline: smoke\nstages:\n  a: [1,\n  b: 2\n');
    const err = (() => {
      try {
        readPipelineLock(path);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('bad-lock-file');
    expect((err as Error).message).toMatch(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:\\d+: not valid YAML`));
    expect((err as UserError).location?.line).toBe(5);
  });

  it('names the line of a wrong field', () => {
    const path = join(dir, 'smoke.lock.yaml');
    writePipelineLock(path, sample());
    const lines = readFileSync(path, 'utf8').split('\n');
    const keyLine = lines.findIndex((l) => l.includes(`key: ${h('b')}`));
    lines[keyLine] = lines[keyLine]!.replace(h('b'), 'not-a-key');
    writeFileSync(path, lines.join('\n'));
    expect(() => readPipelineLock(path)).toThrow(new RegExp(`:${keyLine + 1}:\\d+: stage adapter\\[model=phi-2\\]: key must be 64 hex`));
  });

  it('rejects a wrong version, a missing stages map and bad outputs', () => {
    const path = join(dir, 'x.lock.yaml');
    writeFileSync(path, 'version: 3\npipeline: smoke\nstages: {}\n');
    expect(() => readPipelineLock(path)).toThrow(/x\.lock\.yaml:1:\d+: version must be 1 or 2, got 3 \(a lock file written by a newer polypersona/);
    writeFileSync(path, `version: 2\npipeline: smoke\nstages:\n  s:\n    type: t\n    version: 1\n    key: ${h('a')}\n    params: {}\n    inputs: {}\n    deps: {}\n    outputs: { digest: ${h('b')}, files: 1, bytes: 1 }\n    check: { files: [a] }\n`);
    expect(() => readPipelineLock(path)).toThrow(/:12:\d+: stage s: check must hold files/);
    writeFileSync(path, 'version: 1\npipeline: smoke\n');
    expect(() => readPipelineLock(path)).toThrow(/stages must be a mapping/);
    writeFileSync(path, '- just\n- a list\n');
    expect(() => readPipelineLock(path)).toThrow(/:1:1: expected a mapping/);
    writeFileSync(
      path,
      `version: 1\npipeline: smoke\nstages:\n  s:\n    type: t\n    version: 1\n    key: ${h('a')}\n    params: {}\n    inputs: {}\n    deps: {}\n    outputs:\n      digest: ${h('b')}\n      files: many\n      bytes: 1\n`,
    );
    expect(() => readPipelineLock(path)).toThrow(/:12:\d+: stage s: outputs must hold/);
  });

  it('rejects an output or input digest that is not 64 lowercase hex characters, at its line', () => {
    const path = join(dir, 'x.lock.yaml');
    const lockWith = (inputs: string, digest: string): string =>
      `version: 1\npipeline: smoke\nstages:\n  s:\n    type: t\n    version: 1\n    key: ${h('a')}\n    params: {}\n    inputs: ${inputs}\n    deps: {}\n    outputs:\n      digest: ${digest}\n      files: 1\n      bytes: 1\n`;
    writeFileSync(path, lockWith('{}', h('b')));
    expect(readPipelineLock(path)?.stages.s?.outputs.digest).toBe(h('b'));
    const err = (() => {
      writeFileSync(path, lockWith('{}', h('B')));
      try {
        return readPipelineLock(path);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ code: 'bad-lock-file', location: { file: path, line: 12 } });
    expect((err as Error).message).toMatch(/x\.lock\.yaml:12:\d+: stage s: outputs\.digest must be an output digest \(64 hex characters\)/);
    writeFileSync(path, lockWith(`\n      up: ${h('c').slice(2)}`, h('b')));
    expect(() => readPipelineLock(path)).toThrow(/x\.lock\.yaml:10:\d+: stage s: inputs\.up must be an output digest \(64 hex characters\)/);
  });
});

describe('sameLock', () => {
  it('answers as util.isDeepStrictEqual does: member order ignored, array order, types and missing members not', () => {
    const base = sample();
    const reordered = JSON.parse(JSON.stringify(base)) as PipelineLock;
    const p = reordered.stages.personas!;
    reordered.stages.personas = { check: p.check, outputs: p.outputs, deps: p.deps, inputs: p.inputs, params: p.params, key: p.key, version: p.version, type: p.type };
    const variants: Array<(l: PipelineLock) => void> = [
      () => undefined,
      (l) => ((l.stages.personas!.params as { nested: { a: unknown[] } }).nested.a.reverse()),
      (l) => ((l.stages.personas!.params as { label: unknown }).label = 123),
      (l) => ((l.stages.personas!.params as { seed: unknown }).seed = '7'),
      (l) => ((l.stages.personas!.params as { nested: { a: [unknown, { b: unknown }] } }).nested.a[1].b = undefined),
      (l) => delete (l.stages.personas!.params as { nested: { a: [unknown, { b?: unknown }] } }).nested.a[1].b,
      (l) => ((l.stages.personas!.params as { extra?: unknown }).extra = undefined),
      (l) => (l.stages.personas!.outputs.bytes = 1235),
      (l) => (l.stages.personas!.params = [1, 2]),
      (l) => (l.stages.personas!.params = { 0: 1, 1: 2 }),
      (l) => (l.stages.personas!.params = null),
      (l) => delete l.stages.personas,
    ];
    for (const change of variants) {
      const other = JSON.parse(JSON.stringify(reordered)) as PipelineLock;
      change(other);
      expect(sameLock(base, other)).toBe(isDeepStrictEqual(base, other));
      expect(sameLock(other, base)).toBe(isDeepStrictEqual(other, base));
    }
    expect(sameLock(base, reordered)).toBe(true);
  });
});

describe('version 1 lock files', () => {
  it('are still read (no check data); the next write is version 2', () => {
    const path = join(dir, 'old.lock.yaml');
    writeFileSync(path, `version: 1\npipeline: smoke\nstages:\n  s:\n    type: t\n    version: 1\n    key: ${h('a')}\n    params: { $seed: 7, count: 40 }\n    inputs: {}\n    deps: {}\n    outputs: { digest: ${h('b')}, files: 1, bytes: 1 }\n`);
    const lock = readPipelineLock(path)!;
    expect(lock.version).toBe(1);
    expect(lock.stages.s!.check).toBeUndefined();
    writePipelineLock(path, lock);
    expect(readFileSync(path, 'utf8')).toMatch(/^version: 2$/m);
  });
});

describe('lockedStageOf', () => {
  it('takes key, params, inputs, deps and output digest, file count and bytes from a cache entry', async () => {
    const store = new ArtifactStore(join(dir, 'runs'));
    const key = keyFor(1);
    const staging = await store.stage(key);
    writeFileSync(join(staging.outDir, 'a.txt'), 'abc');
    writeFileSync(join(staging.outDir, 'b.txt'), 'de');
    const entry = await store.publish(staging, draftFor(key, { inputs: { up: parseOutputDigest(h('1')) }, deps: { 'x.py': h('2') }, params: { n: 1 } }));
    expect(lockedStageOf(entry)).toEqual({
      type: 'test',
      version: 1,
      key,
      params: { n: 1 },
      inputs: { up: parseOutputDigest(h('1')) },
      deps: { 'x.py': h('2') },
      outputs: { digest: entry.record.outputDigest, files: 2, bytes: 5 },
      check: { files: { 'a.txt': entry.record.files[0]!.sha256, 'b.txt': entry.record.files[1]!.sha256 } },
    });
  });
});

describe('parsed lock cache', () => {
  it('reads a byte-identical lock file from its parsed copy, and re-parses an edited one', async () => {
    const { mkdtempSync, writeFileSync, readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readPipelineLock, writePipelineLock, parseOutputDigest, parseStageKey } = await import('../../../src/engine/store/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'pp-lockcache-'));
    const cacheDir = join(dir, 'index');
    const file = join(dir, 'p.lock.yaml');
    const lock = {
      version: 1 as const,
      pipeline: 'p',
      stages: { a: { type: 't', version: 1, key: parseStageKey('a'.repeat(64)), params: { $seed: 1, x: [1, 'two'] }, inputs: {}, deps: {}, outputs: { digest: parseOutputDigest('d'.repeat(64)), files: 1, bytes: 3 } } },
    };
    writePipelineLock(file, lock, { parsedCacheDir: cacheDir });
    expect(readdirSync(cacheDir)).toHaveLength(1);
    expect(readPipelineLock(file, { parsedCacheDir: cacheDir })).toEqual(readPipelineLock(file));
    // An edit by hand is a new text: parsed (and checked) again, never served from the old copy.
    const { readFileSync } = await import('node:fs');
    writeFileSync(file, readFileSync(file, 'utf8').replace('bytes: 3', 'bytes: 4'));
    expect(readPipelineLock(file, { parsedCacheDir: cacheDir })!.stages.a!.outputs.bytes).toBe(4);
    writeFileSync(file, readFileSync(file, 'utf8').replace('version: 2\npipeline', 'version: 9\npipeline'));
    expect(() => readPipelineLock(file, { parsedCacheDir: cacheDir })).toThrow(/version must be 1 or 2/);
  });
});
