/**
 * Stop sequences over a growing answer. The decoder yields tokens, and a stop string may span
 * several of them, so the answer is checked as text: `update(text)` takes the whole decoded
 * answer so far and says how much of it may be shown now.
 *
 *   text "I walk daily.\n\nQ"   stops ["\n\nQ"]   → stopped, final "I walk daily."
 *   text "I walk daily.\n"      stops ["\n\nQ"]   → safe "I walk daily." (the "\n" may start a stop)
 *
 * A streamed answer never shows text that later turns out to be part of a stop sequence.
 */
export interface StopState {
  /** The answer to show so far: all of it once stopped, else the part no stop can still claim. */
  safe: string;
  /** True once a stop sequence occurred; `safe` is then the final answer (ending before it). */
  stopped: boolean;
}

export class StopMatcher {
  constructor(private readonly stops: readonly string[]) {}

  update(text: string): StopState {
    let cut = -1;
    for (const stop of this.stops) {
      const at = text.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) return { safe: text.slice(0, cut), stopped: true };
    return { safe: text.slice(0, text.length - this.heldBack(text)), stopped: false };
  }

  /** Length of the longest suffix of `text` that is a proper prefix of some stop sequence. */
  private heldBack(text: string): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, text.length); n > longest; n--) {
        if (text.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
