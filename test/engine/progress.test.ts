import { describe, expect, it } from 'vitest';
import { ProgressMeter } from '../../src/engine/progress.js';

describe('ProgressMeter', () => {
  it('measures the rate over recent samples and the time left to the total', () => {
    let now = 0;
    const meter = new ProgressMeter(() => now);
    expect(meter.sample(0, 10)).toEqual({});
    now = 1000;
    expect(meter.sample(2, 10)).toEqual({ rate: 2, etaMs: 4000 });
    now = 2000;
    expect(meter.sample(4, 10)).toEqual({ rate: 2, etaMs: 3000 });
    now = 3000;
    expect(meter.sample(5)).toEqual({ rate: 5 / 3 });
  });

  it('forgets samples older than the window, so a slow start (session building) does not stick', () => {
    let now = 0;
    const meter = new ProgressMeter(() => now);
    meter.sample(0, 1000);
    now = 60_000; // the first step took a minute
    meter.sample(1, 1000);
    for (let step = 2; step <= 41; step++) {
      now += 1000;
      meter.sample(step, 1000);
    }
    const { rate, etaMs } = meter.sample(41, 1000);
    expect(rate).toBeCloseTo(1, 5);
    expect(etaMs).toBe(959_000);
  });

  it('starts again when progress goes back (a stage starting another phase)', () => {
    let now = 0;
    const meter = new ProgressMeter(() => now);
    meter.sample(5, 10);
    now = 1000;
    meter.sample(10, 10);
    now = 2000;
    expect(meter.sample(1, 4)).toEqual({});
    now = 3000;
    expect(meter.sample(3, 4)).toEqual({ rate: 2, etaMs: 500 });
  });
});

describe('progress events of a run', () => {
  it('carry rate and ETA (the --json stream and every reporter read them)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { StageRegistry } = await import('../../src/engine/registry.js');
    const { parsePipeline } = await import('../../src/engine/pipeline/index.js');
    const { runPipeline } = await import('../../src/engine/scheduler.js');
    const { ArtifactStore } = await import('../../src/engine/store/index.js');
    /** Waits until the clock moves, so that successive samples are apart in time. */
    const tick = async (): Promise<void> => {
      const t = Date.now();
      while (Date.now() === t) await new Promise((r) => setImmediate(r));
    };
    const registry = new StageRegistry().register({
      type: 'steps',
      version: 1,
      description: 'reports four steps',
      produces: 'files',
      paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
      async run(ctx) {
        for (let step = 0; step <= 4; step++) {
          ctx.progress(step, 4, 'steps');
          await tick();
        }
        writeFileSync(join(ctx.outDir, 'done'), '');
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'pp-progress-'));
    const yaml = 'version: 1\nname: t\nstages:\n  s: { uses: steps }\n';
    const events: Array<Record<string, unknown>> = [];
    await runPipeline(parsePipeline(yaml, join(dir, 'p.yaml'), registry), new ArtifactStore(join(dir, 'runs')), registry, { onEvent: (e) => events.push(e) });
    const progress = events.filter((e) => e.type === 'stage-progress');
    expect(progress).toHaveLength(5);
    expect(progress[0]).not.toHaveProperty('rate');
    for (const e of progress.slice(1, 4)) {
      expect(e.rate).toBeGreaterThan(0);
      expect(e.etaMs).toBeCloseTo(((4 - (e.done as number)) / (e.rate as number)) * 1000, -1);
    }
    expect(progress[4]).toMatchObject({ done: 4, total: 4, etaMs: 0 });
  });
});
