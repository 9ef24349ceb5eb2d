import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StageDefinition } from '../../src/engine/contract.js';
import { StageRegistry } from '../../src/engine/registry.js';
import { parsePipeline } from '../../src/engine/pipeline/index.js';
import { runPipeline } from '../../src/engine/scheduler.js';
import { ArtifactStore } from '../../src/engine/store/index.js';
import { keyParams } from '../../src/engine/key-params.js';

/**
 * Two "machines": the upstream stage `measure` writes a float whose last bit depends on which
 * machine it runs on (as an ONNX Runtime reduction would on another CPU); `draw` records the seed
 * it was given. Each machine has its own store.
 */
function machine(lastBit: 0 | 1) {
  const measure: StageDefinition<{ n: number }> = {
    type: 'measure',
    version: 1,
    description: 'a float result',
    produces: 'files',
    paramsSchema: { type: 'object', additionalProperties: false, properties: { n: { type: 'integer', default: 3 } } },
    async run(ctx) {
      const buf = new Float64Array([Math.PI * ctx.params.n]);
      new Uint8Array(buf.buffer)[0]! ^= lastBit;
      writeFileSync(join(ctx.outDir, 'value.txt'), String(buf[0]));
    },
  };
  const draw: StageDefinition<{ rate: number; extra: string }> = {
    type: 'draw',
    version: 1,
    description: 'records its seed',
    produces: 'files',
    paramsSchema: { type: 'object', additionalProperties: false, properties: { rate: { type: 'number', default: 0.5 }, extra: { type: 'string', default: 'x' } } },
    async run(ctx) {
      writeFileSync(join(ctx.outDir, 'seed.txt'), String(ctx.seed));
    },
  };
  return new StageRegistry().register(measure).register(draw);
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function runOn(lastBit: 0 | 1, yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'pp-seeds-'));
  dirs.push(dir);
  const file = join(dir, 'p.yaml');
  writeFileSync(file, yaml);
  const registry = machine(lastBit);
  const res = await runPipeline(parsePipeline(yaml, file, registry), new ArtifactStore(join(dir, 'runs')), registry, { writeLock: false, writeHistory: false });
  expect(res.status).toBe('ok');
  const r = (id: string) => res.results.get(id)!;
  return {
    key: (id: string) => r(id).key!,
    digest: (id: string) => r(id).digest!,
    seed: (id: string) => Number(readFileSync(join(r(id).entry!.outDir, 'seed.txt'), 'utf8')),
  };
}

const PIPELINE = (drawWith: string) => `version: 1\nname: t\nparams: { seed: 11 }\nstages:\n  m: { uses: measure }\n  d: { uses: draw, needs: [m]${drawWith} }\n  e: { uses: draw, needs: [m], with: { rate: 0.25 } }\n`;

describe('stage seeds', () => {
  it('do not change when an upstream output differs in the last bit; keys do', async () => {
    const a = await runOn(0, PIPELINE(''));
    const b = await runOn(1, PIPELINE(''));
    expect(a.digest('m')).not.toBe(b.digest('m'));
    expect(a.key('d')).not.toBe(b.key('d'));
    expect(a.seed('d')).toBe(b.seed('d'));
    expect(a.seed('e')).toBe(b.seed('e'));
    // Two stages of one type with the same input still get different streams.
    expect(a.seed('d')).not.toBe(a.seed('e'));
  });

  it("change when the stage's own params change, and not when a default is written out", async () => {
    const base = await runOn(0, PIPELINE(''));
    const changed = await runOn(0, PIPELINE(', with: { rate: 0.75 }'));
    const explicitDefault = await runOn(0, PIPELINE(', with: { rate: 0.5, extra: x }'));
    expect(changed.seed('d')).not.toBe(base.seed('d'));
    expect(changed.key('d')).not.toBe(base.key('d'));
    expect(explicitDefault.seed('d')).toBe(base.seed('d'));
    expect(explicitDefault.key('d')).toBe(base.key('d'));
  });

  it('change with the pipeline seed', async () => {
    const a = await runOn(0, PIPELINE(''));
    const b = await runOn(0, PIPELINE('').replace('seed: 11', 'seed: 12'));
    expect(a.seed('d')).not.toBe(b.seed('d'));
  });
});

describe('key params', () => {
  const schema = {
    type: 'object',
    properties: {
      count: { type: 'integer', default: 40 },
      teacher: { type: 'object', properties: { kind: { type: 'string', default: 'template' }, top_p: { type: 'number', default: 1 } } },
      hub: { type: 'object', default: {}, properties: { repo: { type: 'string', default: 'a/b' } } },
      modules: { type: 'array', default: ['q', 'v'] },
      free: { type: 'string' },
    },
  };

  it('drops values equal to their default, nested ones too, and keeps the rest', () => {
    expect(keyParams({ count: 40, teacher: { kind: 'template', top_p: 0.9 }, modules: ['q', 'v'], free: 'a' }, schema)).toEqual({ teacher: { top_p: 0.9 }, free: 'a' });
    expect(keyParams({ count: 41, modules: ['v', 'q'] }, schema)).toEqual({ count: 41, modules: ['v', 'q'] });
    // An object default filled member by member is its default; a member set otherwise is kept.
    expect(keyParams({ hub: { repo: 'a/b' } }, schema)).toEqual({});
    expect(keyParams({ hub: { repo: 'c/d' } }, schema)).toEqual({ hub: { repo: 'c/d' } });
  });

  it('a param added to a stage type with its default leaves the key params of a pipeline that does not set it unchanged', () => {
    const before = keyParams({ count: 41 }, schema);
    const grown = { ...schema, properties: { ...schema.properties, eval_metrics_samples: { type: 'integer', default: 0 } } };
    // ajv fills the new default in before the key is computed.
    expect(keyParams({ count: 41, eval_metrics_samples: 0 }, grown)).toEqual(before);
  });
});
