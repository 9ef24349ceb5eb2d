import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { printWhereTo } from '../../src/cli/commands/run.js';
import { linkLatest } from '../../src/cli/latest.js';
import type { CliIO } from '../../src/cli/io.js';
import type { LoadedPipeline } from '../../src/engine/pipeline/index.js';
import type { RunSummary } from '../../src/engine/scheduler.js';
import { tempDir } from '../helpers/stage-context.js';

describe('the end of a run', () => {
  it("prints the report's path through the stable link, then where the other outputs are", () => {
    const project = tempDir();
    const runs = join(project, 'runs');
    const outDir = join(runs, 'cache', 'ab', 'ab'.repeat(32), 'out');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'report.md'), '# report');
    linkLatest(runs, 'smoke', [{ id: 'report', outDir }]);
    let out = '';
    const io = { stdout: new Writable({ write: (c, _e, done) => ((out += String(c)), done()) }), cwd: project } as unknown as CliIO;
    const pipeline = { name: 'smoke', stages: new Map([['report', { definition: { produces: 'report' }, params: {} }], ['scores', { definition: { produces: 'scores' }, params: {} }]]) } as unknown as LoadedPipeline;
    const entry = { outDir } as never;
    const summary = { results: new Map([['scores', { id: 'scores', outcome: 'cached', entry }], ['report', { id: 'report', outcome: 'ran', entry }]]) } as unknown as RunSummary;
    printWhereTo(io, pipeline, runs, summary);
    expect(out).toBe('report: runs/latest/smoke/report/report.md\noutputs: runs/latest/smoke/<stage> (polypersona outputs STAGE)\n');
  });
});
