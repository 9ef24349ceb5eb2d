import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { parsePipeline } from '../../src/engine/pipeline/index.js';
import { StageRegistry } from '../../src/engine/registry.js';
import { runPipeline } from '../../src/engine/scheduler.js';
import { ArtifactStore } from '../../src/engine/store/index.js';

describe('why a stage starts', () => {
  it('a stage with work left by an interrupted run says it resumes, not "new stage"', async () => {
    let attempt = 0;
    const registry = new StageRegistry().register({
      type: 'resumable',
      version: 1,
      description: 'writes a checkpoint, fails the first time',
      produces: 'files',
      paramsSchema: { type: 'object', additionalProperties: false, properties: {} },
      async run(ctx) {
        attempt++;
        writeFileSync(join(ctx.workDir, 'checkpoint-8'), 'step 8');
        if (attempt === 1) throw new Error('killed at step 8');
        writeFileSync(join(ctx.outDir, 'adapter'), 'trained');
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'pp-reasons-'));
    const pipeline = parsePipeline('version: 1\nname: t\nstages:\n  adapter: { uses: resumable }\n', join(dir, 'p.yaml'), registry);
    const store = new ArtifactStore(join(dir, 'runs'));
    const starts: string[][] = [];
    const onEvent = (e: RunEvent): void => {
      if (e.type === 'stage-start') starts.push(e.reasons);
    };
    expect((await runPipeline(pipeline, store, registry, { onEvent })).status).toBe('failed');
    expect((await runPipeline(pipeline, store, registry, { onEvent })).status).toBe('ok');
    expect(starts[0]).toEqual(['new stage']);
    expect(starts[1]).toHaveLength(1);
    expect(starts[1]![0]).toMatch(/^resumes an interrupted run \(its work is kept in .*runs\/work\/[0-9a-f]{64}\)$/);
  });
});
