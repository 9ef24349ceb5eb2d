/**
 * Rate and ETA of a stage's progress (training steps, generated records, teacher requests), so
 * every reporter — the live view, plain lines, `--json` events — shows the same figures.
 *
 * The rate is measured over a sliding window of recent samples, not since the stage began:
 * the first step of a training run also pays for building sessions, and a resumed run starts at
 * step 8, neither of which says how fast the next steps go.
 *
 *   samples (t ms, done):  (0, 0) (1000, 2) (2000, 4) ... → rate 2 per second
 *   total 10, done 4       → etaMs = (10 - 4) / 2 s = 3000
 */
export interface ProgressRate {
  /** Units (steps, records, requests, bytes) per second over the window; absent until measurable. */
  rate?: number;
  /** Milliseconds to `total` at that rate; absent without a total or a rate. */
  etaMs?: number;
}

/** How far back the rate looks, in ms. */
const WINDOW_MS = 30_000;

export class ProgressMeter {
  /** (time ms, done) samples within the window, oldest first; at least the last two are kept. */
  private samples: Array<[number, number]> = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Records `done` of `total` at the current time and returns the rate and ETA. */
  sample(done: number, total?: number): ProgressRate {
    const t = this.now();
    const last = this.samples.at(-1);
    // Progress that goes back (a stage restarting a phase) starts a new measurement.
    if (last && done < last[1]) this.samples = [];
    this.samples.push([t, done]);
    while (this.samples.length > 2 && t - this.samples[0]![0] > WINDOW_MS) this.samples.shift();
    const [t0, d0] = this.samples[0]!;
    if (t <= t0 || done <= d0) return {};
    const rate = ((done - d0) * 1000) / (t - t0);
    if (total === undefined || total < done) return { rate };
    return { rate, etaMs: Math.round(((total - done) / rate) * 1000) };
  }
}
