import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StageDefinition } from '../../src/engine/contract.js';
import { StageRegistry } from '../../src/engine/registry.js';
import { parsePipeline } from '../../src/engine/pipeline/index.js';
import { runPipeline } from '../../src/engine/scheduler.js';
import { ArtifactStore } from '../../src/engine/store/index.js';
import type { RunEvent } from '../../src/engine/events.js';

/** Stages made for these tests: they count their runs and can block, throw or record overlap. */
function testRegistry() {
  const runs: string[] = [];
  const failed: string[] = [];
  let active = 0;
  let maxActive = 0;
  const gates = new Map<string, Promise<void>>();
  const schema = (props: Record<string, unknown> = {}) => ({ type: 'object', additionalProperties: false, properties: { text: { type: 'string', default: '' }, wait: { type: 'string', default: '' }, ...props } });
  const emit: StageDefinition<{ text: string; wait: string }> = {
    type: 'emit',
    version: 1,
    description: 'writes text',
    produces: 'files',
    paramsSchema: schema(),
    async run(ctx) {
      runs.push(ctx.stageId);
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        if (ctx.params.wait) await gates.get(ctx.params.wait);
        const upstream = Object.values(ctx.inputs).map((r) => readFileSync(join(r.dir, 'value.txt'), 'utf8'));
        writeFileSync(join(ctx.outDir, 'value.txt'), [...upstream, ctx.params.text].join('+'));
        ctx.progress(1, 1);
      } finally {
        active--;
      }
    },
  };
  const heavy: StageDefinition = { ...emit, type: 'heavy', exclusive: true } as StageDefinition;
  const boom: StageDefinition = {
    type: 'boom',
    version: 1,
    description: 'throws',
    produces: 'files',
    paramsSchema: schema(),
    async run(ctx) {
      failed.push(ctx.stageId);
      throw new TypeError('cannot read properties of undefined');
    },
  };
  const sleeper: StageDefinition = {
    type: 'sleeper',
    version: 1,
    description: 'waits for abort',
    produces: 'files',
    paramsSchema: schema(),
    async run(ctx) {
      runs.push(ctx.stageId);
      await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    },
  };
  const registry = new StageRegistry().register(emit).register(heavy).register(boom).register(sleeper);
  return { registry, runs, failed, gates, get maxActive() { return maxActive; } };
}

/** Polls `condition` every 5 ms (up to 20 s): tests wait for what happened, not for a guessed delay. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('until: condition not met in 20 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function setup(yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'pp-sched-'));
  const file = join(dir, 'p.yaml');
  writeFileSync(file, yaml);
  const t = testRegistry();
  const pipeline = parsePipeline(yaml, file, t.registry);
  const store = new ArtifactStore(join(dir, 'runs'));
  return { ...t, pipeline, store, dir };
}

describe('runPipeline', () => {
  it('passes upstream outputs to dependents and caches by key', async () => {
    const s = setup('version: 1\nname: t\nstages:\n  a: { uses: emit, with: { text: A } }\n  b: { uses: emit, needs: [a], with: { text: B } }\n');
    const first = await runPipeline(s.pipeline, s.store, s.registry);
    expect(first.status).toBe('ok');
    expect(readFileSync(join(first.results.get('b')!.entry!.outDir, 'value.txt'), 'utf8')).toBe('A+B');
    const second = await runPipeline(s.pipeline, s.store, s.registry);
    expect([...second.results.values()].map((r) => r.outcome)).toEqual(['cached', 'cached']);
    expect(s.runs).toEqual(['a', 'b']);
  });

  it('a stage that throws fails the run with its message, and its dependents are skipped', async () => {
    const s = setup('version: 1\nname: t\nstages:\n  x: { uses: boom }\n  y: { uses: emit, needs: [x] }\n');
    const events: RunEvent[] = [];
    const res = await runPipeline(s.pipeline, s.store, s.registry, { onEvent: (e) => events.push(e) });
    expect(res.status).toBe('failed');
    expect(res.results.get('x')!.error!.message).toBe('stage "x" threw: cannot read properties of undefined');
    expect(res.results.get('y')!.outcome).toBe('skipped');
    expect(await s.store.list()).toHaveLength(0);
  });

  it('an error outside a stage run (a missing dep) rejects only after running stages have settled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-sched-'));
    const file = join(dir, 'p.yaml');
    const yaml = 'version: 1\nname: t\nstages:\n  z: { uses: sleeper }\n  d: { uses: dep }\n';
    writeFileSync(file, yaml);
    const t = testRegistry();
    const dep: StageDefinition = { type: 'dep', version: 1, description: 'has a dep', produces: 'files', paramsSchema: { type: 'object', additionalProperties: false, properties: {} }, fileDeps: () => ['gone.txt'], async run() {} };
    t.registry.register(dep);
    const pipeline = parsePipeline(yaml, file, t.registry);
    const ended: string[] = [];
    const err = await runPipeline(pipeline, new ArtifactStore(join(dir, 'runs')), t.registry, {
      onEvent: (e) => {
        if (e.type === 'stage-skipped' || e.type === 'stage-failed' || e.type === 'stage-cancelled') ended.push(e.id);
      },
    }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('missing-dep');
    // z waits for its abort signal: without the halt it would still be pending here.
    expect(ended).toEqual(['z']);
  });

  it('exclusive stages run alone even with --jobs', async () => {
    const s = setup('version: 1\nname: t\nstages:\n  a: { uses: heavy, with: { text: A } }\n  b: { uses: emit, with: { text: B } }\n  c: { uses: emit, with: { text: C } }\n');
    let release!: () => void;
    s.gates.set('g', new Promise((r) => (release = r)));
    setTimeout(() => release(), 50);
    await runPipeline(s.pipeline, s.store, s.registry, { jobs: 3 });
    expect(s.runs).toHaveLength(3);
    // b and c may overlap each other, never a.
    expect(s.maxActive).toBeLessThanOrEqual(2);
  });

  it('cancellation aborts running stages, publishes nothing, and reports cancelled', async () => {
    const s = setup('version: 1\nname: t\nstages:\n  z: { uses: sleeper }\n  after: { uses: emit, needs: [z] }\n');
    const controller = new AbortController();
    void until(() => s.runs.includes('z')).then(() => controller.abort(new Error('user pressed Ctrl-C')));
    const res = await runPipeline(s.pipeline, s.store, s.registry, { signal: controller.signal });
    expect(res.status).toBe('cancelled');
    expect(res.results.get('z')!.outcome).toBe('cancelled');
    expect(await s.store.list()).toHaveLength(0);
    // The next run starts the interrupted stage again.
    expect(s.runs).toEqual(['z']);
  });

  it('a second concurrent run waits for the writer of the same key, then uses its entry', async () => {
    const s = setup('version: 1\nname: t\nstages:\n  a: { uses: emit, with: { text: A, wait: g } }\n');
    let release!: () => void;
    s.gates.set('g', new Promise((r) => (release = r)));
    const waits: RunEvent[] = [];
    const one = runPipeline(s.pipeline, s.store, s.registry);
    await until(() => s.runs.length === 1); // the first run holds the key's lock and is writing
    const two = runPipeline(s.pipeline, s.store, s.registry, { onEvent: (e) => e.type === 'stage-waiting-lock' && waits.push(e) });
    await until(() => waits.length === 1);
    release();
    const [r1, r2] = await Promise.all([one, two]);
    expect(r1.results.get('a')!.outcome).toBe('ran');
    expect(r2.results.get('a')!.outcome).toBe('cached');
    expect(waits).toHaveLength(1);
    expect(s.runs).toEqual(['a']);
  });

  it('with wait: false a held key fails at once with a clear message', async () => {
    const s = setup('version: 1\nname: t\nstages:\n  a: { uses: emit, with: { text: A, wait: g } }\n');
    let release!: () => void;
    s.gates.set('g', new Promise((r) => (release = r)));
    const one = runPipeline(s.pipeline, s.store, s.registry);
    await until(() => s.runs.length === 1);
    const two = await runPipeline(s.pipeline, s.store, s.registry, { wait: false });
    release();
    await one;
    expect(two.status).toBe('failed');
    expect(two.results.get('a')!.error!.code).toBe('locked');
  });

  it('a failure stops new stages but lets running ones finish and publish', async () => {
    const s = setup('version: 1\nname: t\nstages:\n  slow: { uses: emit, with: { text: S, wait: g } }\n  x: { uses: boom }\n  later: { uses: emit, needs: [x] }\n');
    let release!: () => void;
    s.gates.set('g', new Promise((r) => (release = r)));
    const done = runPipeline(s.pipeline, s.store, s.registry, { jobs: 2 });
    // Release the slow stage only once the other one has failed.
    await until(() => s.failed.length === 1);
    release();
    const res = await done;
    expect(res.status).toBe('failed');
    expect(res.results.get('x')!.outcome).toBe('failed');
    expect(res.results.get('slow')!.outcome).toBe('ran');
    expect(await s.store.list()).toHaveLength(1);
  });

  it('a new pipeline seed changes every key', async () => {
    const s = setup('version: 1\nname: t\nparams: { seed: 1 }\nstages:\n  a: { uses: emit, with: { text: A } }\n');
    const r1 = await runPipeline(s.pipeline, s.store, s.registry);
    const p2 = parsePipeline('version: 1\nname: t\nparams: { seed: 2 }\nstages:\n  a: { uses: emit, with: { text: A } }\n', s.pipeline.file, s.registry);
    const r2 = await runPipeline(p2, s.store, s.registry);
    expect(r2.results.get('a')!.outcome).toBe('ran');
    expect(r2.results.get('a')!.key).not.toBe(r1.results.get('a')!.key);
  });
});
