import type { RunEvent } from '../../engine/events.js';
import type { CliIO } from '../io.js';
import type { Reporter } from './reporter.js';

/** One JSON object per line on stdout, for tools: the RunEvent union, verbatim, plus a timestamp. */
export class JsonReporter implements Reporter {
  constructor(private readonly io: CliIO) {}
  onEvent(event: RunEvent): void {
    this.io.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }
  async close(): Promise<void> {}
}
