import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StageDefinition } from '../../../src/engine/contract.js';
import { parsePipeline, PipelineError, type LoadedPipeline } from '../../../src/engine/pipeline/index.js';
import { paramsMemoPath, parsedCopyPath } from '../../../src/engine/pipeline/parse-cache.js';
import { StageRegistry } from '../../../src/engine/registry.js';
import { designExample, testRegistry, testStages } from './fixtures.js';

const FILE = '/proj/pipelines/smoke.yaml';

const withMatrix = `version: 1
params: { seed: 3, presets: [tiny, small] }
stages:
  base:
    uses: init-model
    matrix: { preset: \${{ params.presets }} }
    with: { preset: \${{ matrix.preset }}, seed: \${{ params.seed }} }
  q:
    uses: quantize
    matrix: { preset: [tiny, small] }
    needs: base
    description: "q of \${{ matrix.preset }}"
  "quoted-id":
    run: cat \${{ stages.q[small].outputs.dir }}/x > \${{ outputs.dir }}/y
    env: { N: 1 }
`;

/** Everything a load gives, as plain data (definitions by type). */
function plain(p: LoadedPipeline): unknown {
  return {
    file: p.file,
    dir: p.dir,
    name: p.name,
    params: p.params,
    seed: p.seed,
    stages: [...p.stages.values()].map((s) => ({ ...s, definition: s.definition.type })),
    dependents: [...p.stages.keys()].map((id) => p.dependents(id)),
  };
}

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'pp-parse-cache-'));

function errorOf(fn: () => unknown): PipelineError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PipelineError) return err;
    throw err;
  }
  throw new Error('expected a PipelineError');
}

describe('the pipeline parse cache', () => {
  for (const [name, text] of [['the DESIGN.md example', designExample], ['a pipeline with matrices and quoted ids', withMatrix]] as const) {
    it(`gives the same pipeline from the stored copy as from parsing (${name})`, () => {
      const dir = tempDir();
      const uncached = parsePipeline(text, FILE, testRegistry());
      const first = parsePipeline(text, FILE, testRegistry(), { parsedCacheDir: dir });
      expect(existsSync(parsedCopyPath(dir, text))).toBe(true);
      const cached = parsePipeline(text, FILE, testRegistry(), { parsedCacheDir: dir });
      expect(plain(first)).toEqual(plain(uncached));
      expect(plain(cached)).toEqual(plain(uncached));
    });
  }

  it('reads the stored copy instead of parsing when the text is unchanged', () => {
    const dir = tempDir();
    parsePipeline(designExample, FILE, testRegistry(), { parsedCacheDir: dir });
    const path = parsedCopyPath(dir, designExample);
    const copy = JSON.parse(readFileSync(path, 'utf8')) as { value: { name: string } };
    copy.value.name = 'from-the-copy';
    writeFileSync(path, JSON.stringify(copy));
    expect(parsePipeline(designExample, FILE, testRegistry(), { parsedCacheDir: dir }).name).toBe('from-the-copy');
  });

  it('parses an edited file afresh (one changed byte gives another copy)', () => {
    const dir = tempDir();
    parsePipeline(designExample, FILE, testRegistry(), { parsedCacheDir: dir });
    const edited = designExample.replace('count: 40', 'count: 41');
    const p = parsePipeline(edited, FILE, testRegistry(), { parsedCacheDir: dir });
    expect(p.stages.get('personas')!.params).toEqual({ count: 41, seed: 7 });
    expect(readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.params.json'))).toHaveLength(2);
    expect(parsePipeline(designExample, FILE, testRegistry(), { parsedCacheDir: dir }).stages.get('personas')!.params).toEqual({ count: 40, seed: 7 });
  });

  it('reports problems found on a cached load at the same file:line:column as a parse would', () => {
    const dir = tempDir();
    parsePipeline(designExample, FILE, testRegistry(), { parsedCacheDir: dir });
    // The same text against other stages: `score` unknown, `generate` with a narrower schema.
    const strict = new StageRegistry();
    for (const s of testStages) {
      if (s.type === 'score') continue;
      if (s.type === 'generate') {
        const schema = s.paramsSchema as { properties: Record<string, object> };
        strict.register({ ...s, paramsSchema: { ...schema, properties: { ...schema.properties, temperature: { type: 'number', maximum: 0.5 } } } } as StageDefinition);
      } else strict.register(s);
    }
    const fromCopy = errorOf(() => parsePipeline(designExample, FILE, strict, { parsedCacheDir: dir }));
    const parsed = errorOf(() => parsePipeline(designExample, FILE, strict));
    expect(fromCopy.message).toBe(parsed.message);
    expect(fromCopy.issues.map((i) => i.location)).toEqual(parsed.issues.map((i) => i.location));
    expect(fromCopy.message).toContain(`${FILE}:32:11: stages.scores.uses: unknown stage type "score"`);
    expect(fromCopy.message).toContain(`${FILE}:30:39: stages.predictions.with.temperature: must be <= 0.5`);
  });

  it('stores nothing for a pipeline with problems, and still reports them', () => {
    const dir = tempDir();
    const bad = designExample.replace('count: 40', 'count: 0');
    for (let i = 0; i < 2; i++) {
      expect(errorOf(() => parsePipeline(bad, FILE, testRegistry(), { parsedCacheDir: dir })).message).toContain(`${FILE}:7:20: stages.personas.with.count`);
    }
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('ignores a damaged copy and writes a good one', () => {
    const dir = tempDir();
    parsePipeline(designExample, FILE, testRegistry(), { parsedCacheDir: dir });
    const path = parsedCopyPath(dir, designExample);
    for (const damage of ['{"value": {', '{"value": 1}', 'null']) {
      writeFileSync(path, damage);
      expect(plain(parsePipeline(designExample, FILE, testRegistry(), { parsedCacheDir: dir }))).toEqual(plain(parsePipeline(designExample, FILE, testRegistry())));
      expect(() => JSON.parse(readFileSync(path, 'utf8')) as unknown).not.toThrow();
    }
  });

  it('does not store values JSON cannot carry exactly (-0); .inf is refused outright', () => {
    const dir = tempDir();
    const text = (value: string): string => `version: 1\nparams: { x: ${value} }\nstages:\n  a:\n    run: echo \${{ params.x }}\n`;
    const p = parsePipeline(text('-0.0'), FILE, testRegistry(), { parsedCacheDir: dir });
    expect(Object.is(p.params.x, -0)).toBe(true);
    expect(() => parsePipeline(text('.inf'), FILE, testRegistry(), { parsedCacheDir: dir })).toThrow(/2:14: params\.x: \.inf is not a number a pipeline can hold/);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('answers params validation from the memo while schema and raw params match, and asks ajv when a schema changes', () => {
    const dir = tempDir();
    parsePipeline(designExample, FILE, testRegistry(), { parsedCacheDir: dir });
    const path = paramsMemoPath(dir, designExample);
    const memo = JSON.parse(readFileSync(path, 'utf8')) as { stages: Record<string, { p: string }> };
    expect(JSON.parse(memo.stages.base!.p)).toEqual({ preset: 'tiny', seed: 7 });
    // The memo is what a cached load uses: a doctored entry shows through.
    memo.stages.base!.p = JSON.stringify({ preset: 'small', seed: 7 });
    writeFileSync(path, JSON.stringify(memo));
    expect(parsePipeline(designExample, FILE, testRegistry(), { parsedCacheDir: dir }).stages.get('base')!.params).toEqual({ preset: 'small', seed: 7 });
    // Another schema for quantize (a new default): validated afresh, and the memo follows.
    const changed = new StageRegistry();
    for (const s of testStages) {
      if (s.type !== 'quantize') changed.register(s);
      else {
        const schema = s.paramsSchema as { properties: Record<string, object> };
        changed.register({ ...s, paramsSchema: { ...schema, properties: { ...schema.properties, group: { type: 'string', default: 'rows' } } } } as StageDefinition);
      }
    }
    const p = parsePipeline(designExample, FILE, changed, { parsedCacheDir: dir });
    expect(p.stages.get('quantized')!.params).toEqual({ bits: 4, block_size: 32, group: 'rows' });
    const after = JSON.parse(readFileSync(path, 'utf8')) as { stages: Record<string, { p: string }> };
    expect(JSON.parse(after.stages.quantized!.p)).toEqual({ bits: 4, block_size: 32, group: 'rows' });
    expect(parsePipeline(designExample, FILE, testRegistry(), { parsedCacheDir: dir }).stages.get('quantized')!.params).toEqual({ bits: 4, block_size: 32 });
  });

  it('ignores a memo written by another validator or damaged', () => {
    const dir = tempDir();
    parsePipeline(designExample, FILE, testRegistry(), { parsedCacheDir: dir });
    const path = paramsMemoPath(dir, designExample);
    const memo = JSON.parse(readFileSync(path, 'utf8')) as { validator: string; stages: Record<string, { p: string }> };
    memo.stages.base!.p = JSON.stringify({ preset: 'small', seed: 7 });
    for (const text of [JSON.stringify({ ...memo, validator: 'ajv 0.0.0 {}' }), JSON.stringify({ ...memo, format: 0 }), '{"format": 1, "stag']) {
      writeFileSync(path, text);
      expect(parsePipeline(designExample, FILE, testRegistry(), { parsedCacheDir: dir }).stages.get('base')!.params).toEqual({ preset: 'tiny', seed: 7 });
    }
  });
});
