/**
 * One squeue for many jobs: status requests that arrive within `windowMs` of each other (and
 * while a query is in flight) are answered by a single `squeue --jobs=a,b,c`. A run with 100
 * jobs in the queue then asks slurmctld at most 1000 / windowMs times a second, not 100 times
 * as often — slurmctld is shared by everyone on the cluster.
 */
import type { JobQuery, SlurmClient } from './client.js';

export class StatusBatcher {
  private waiting = new Map<string, Array<{ resolve: (q: JobQuery) => void; reject: (err: unknown) => void }>>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly client: SlurmClient,
    private readonly windowMs: number,
  ) {}

  status(id: string): Promise<JobQuery> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(id) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(id, list);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.inFlight) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.flush().finally(() => {
        this.inFlight = undefined;
        if (this.waiting.size > 0) this.schedule();
      });
    }, this.windowMs);
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = new Map();
    try {
      const answers = await this.client.query([...batch.keys()]);
      for (const [id, waiters] of batch) for (const w of waiters) w.resolve(answers.get(id) ?? 'unknown');
    } catch (err) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
    }
  }
}
