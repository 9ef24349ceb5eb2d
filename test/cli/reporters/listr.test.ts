import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ListrReporter } from '../../../src/cli/reporters/listr.js';
import { testDigest, testKey } from '../../helpers/fingerprints.js';
import type { CliIO } from '../../../src/cli/io.js';

/** A terminal stand-in: every write is one frame of the live view, ANSI codes removed. */
class Screen {
  readonly frames: string[] = [];
  private waiters: Array<{ test: (frame: string) => boolean; resolve: (frame: string) => void }> = [];
  readonly stream = Object.assign(
    new Writable({
      write: (chunk, _enc, done) => {
        const frame = stripVTControlCharacters(String(chunk));
        this.frames.push(frame);
        this.waiters = this.waiters.filter((w) => (w.test(frame) ? (w.resolve(frame), false) : true));
        done();
      },
    }),
    { isTTY: true, columns: 160 },
  );

  /** Resolves with the first frame (already drawn or still to come) that passes `test`. */
  next(test: (frame: string) => boolean): Promise<string> {
    const seen = this.frames.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}

function reporterOn(screen: Screen): ListrReporter {
  const io: CliIO = { stdout: screen.stream, stderr: screen.stream, env: {}, cwd: '.', signal: new AbortController().signal };
  return new ListrReporter(io, false);
}

const key = testKey('k');
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

describe('ListrReporter (the live view)', () => {
  it('close() returns even when the run ended without an event for every stage (a run that threw)', async () => {
    const screen = new Screen();
    const reporter = reporterOn(screen);
    reporter.onEvent({ type: 'run-start', runId: 'r', pipeline: 'p', stages: [{ id: 'a', type: 't' }, { id: 'b', type: 't' }], dryRun: false });
    reporter.onEvent({ type: 'stage-done', id: 'a', key, digest: testDigest('d'), durationMs: 1 });
    // No event for b: runPipeline rejected (e.g. a dep deleted since load). Before, this hung.
    await reporter.close();
    expect(screen.frames.join('')).toContain('b (not run)');
  });

  it('shows a running stage with bar, count, rate, ETA and loss, even when it started before its task was drawn', async () => {
    const screen = new Screen();
    const reporter = reporterOn(screen);
    reporter.onEvent({ type: 'run-start', runId: 'r', pipeline: 'p', stages: [{ id: 'lora', type: 'lora-train' }, { id: 'predictions', type: 'generate' }], dryRun: false });
    // Synchronously after run-start: listr2 has not started the tasks yet (the bug: the title stayed "(waiting)").
    reporter.onEvent({ type: 'stage-queued', id: 'lora' });
    reporter.onEvent({ type: 'stage-start', id: 'lora', key, reasons: ['resumes the interrupted run'] });
    await screen.next((f) => f.includes('lora (running: resumes the interrupted run)'));
    reporter.onEvent({ type: 'stage-progress', id: 'lora', done: 120, total: 300, note: 'loss 2.31', rate: 2.5, etaMs: 72_000 });
    const frame = await screen.next((f) => f.includes('lora ') && f.includes('120/300'));
    const line = frame.split('\n').find((l) => l.includes('120/300'))!;
    expect(line).toMatch(/lora\s+█{8}░{12} 120\/300 · 2\.50 it\/s · ETA 1 min 12 s · loss 2\.31/);
    expect(frame).not.toMatch(/lora \(waiting\)/);
    expect(frame).toContain('resumes the interrupted run');
    reporter.onEvent({ type: 'stage-progress', id: 'predictions', done: 0, total: 40, note: 'records' });
    reporter.onEvent({ type: 'stage-done', id: 'lora', key, digest: testDigest('d'), durationMs: 65_000 });
    reporter.onEvent({ type: 'stage-cached', id: 'predictions', key, digest: testDigest('d') });
    reporter.onEvent({ type: 'run-end', runId: 'r', status: 'ok', counts: { ran: 1, cached: 1, failed: 0, skipped: 0, cancelled: 0 }, durationMs: 66_000 });
    await reporter.close();
    const end = screen.frames.join('');
    expect(end).toContain('lora (1 min 5 s)');
    expect(end).toContain('ok: 1 ran, 1 cached, 0 failed, 0 skipped in 1 min 6 s');
  });

  it('draws waiting stages with a still icon while a running one spins', async () => {
    const screen = new Screen();
    const reporter = reporterOn(screen);
    reporter.onEvent({ type: 'run-start', runId: 'r', pipeline: 'p', stages: [{ id: 'train', type: 't' }, { id: 'after', type: 't' }, { id: 'slot', type: 't' }], dryRun: false });
    reporter.onEvent({ type: 'stage-start', id: 'train', key, reasons: [] });
    reporter.onEvent({ type: 'stage-queued', id: 'slot' });
    // Several spinner frames: the running stage's icon moves; the others never do.
    const frames: string[] = [];
    const spinners = new Set<string>();
    while (spinners.size < 3) {
      const frame = await screen.next((f) => f.includes('after') && f.includes('slot') && !frames.includes(f));
      frames.push(frame);
      const train = frame.split('\n').find((l) => l.includes('train'));
      const spin = train?.match(SPINNER)?.[0];
      if (spin) spinners.add(spin);
      for (const l of frame.split('\n').filter((x) => x.includes('after') || x.includes('slot'))) expect(l).not.toMatch(SPINNER);
    }
    const last = frames.at(-1)!;
    expect(last).toMatch(/after \(waiting\)/);
    expect(last).toMatch(/slot \(queued: waits for a free slot\)/);
    for (const id of ['train', 'after', 'slot']) reporter.onEvent({ type: 'stage-cancelled', id });
    await reporter.close();
  });

  it('ends a dry run by counting the stages that would run, not as skipped', async () => {
    const screen = new Screen();
    const reporter = reporterOn(screen);
    reporter.onEvent({ type: 'run-start', runId: 'r', pipeline: 'p', stages: [{ id: 'a', type: 't' }], dryRun: true });
    reporter.onEvent({ type: 'stage-would-run', id: 'a', reasons: ['new stage'] });
    reporter.onEvent({ type: 'run-end', runId: 'r', status: 'ok', counts: { ran: 0, cached: 0, failed: 0, skipped: 0, cancelled: 0 }, wouldRun: 1, durationMs: 3 });
    await reporter.close();
    expect(screen.frames.join('')).toContain('dry run: 1 would run, 0 cached (nothing was run)');
  });
});
