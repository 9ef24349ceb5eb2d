import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ListrReporter } from '../../../src/cli/reporters/listr.js';
import type { CliIO } from '../../../src/cli/io.js';

describe('ListrReporter', () => {
  it('close() returns even when the run ended without an event for every stage (a run that threw)', async () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    });
    const io: CliIO = { stdout: sink, stderr: sink, env: {}, cwd: '.', signal: new AbortController().signal };
    const reporter = new ListrReporter(io, false);
    reporter.onEvent({ type: 'run-start', runId: 'r', pipeline: 'p', stages: [{ id: 'a', type: 't' }, { id: 'b', type: 't' }], dryRun: false });
    reporter.onEvent({ type: 'stage-done', id: 'a', key: 'k'.repeat(64), digest: 'd', durationMs: 1 });
    // No event for b: runPipeline rejected (e.g. a dep deleted since load). Before, this hung.
    await reporter.close();
    expect(out).toBe('');
  });
});
