/**
 * Concurrency for stages: at most `jobs` at once, and an exclusive stage (training, generation)
 * runs alone so heavy stages do not fight for the cores. Waiters are served in arrival order,
 * so an exclusive stage is not starved by a stream of small ones.
 */
import { InternalError } from '../core/errors.js';
export class StageGate {
  private running = 0;
  private exclusiveRunning = false;
  private readonly queue: Array<{ exclusive: boolean; wake: () => void }> = [];

  constructor(private readonly jobs: number) {
    if (!Number.isInteger(jobs) || jobs < 1) throw new InternalError(`jobs must be a positive integer, got ${jobs}`);
  }

  async run<T>(exclusive: boolean, task: () => Promise<T>): Promise<T> {
    await this.acquire(exclusive);
    try {
      return await task();
    } finally {
      this.release(exclusive);
    }
  }

  private canStart(exclusive: boolean): boolean {
    if (this.exclusiveRunning) return false;
    return exclusive ? this.running === 0 : this.running < this.jobs;
  }

  private acquire(exclusive: boolean): Promise<void> {
    if (this.queue.length === 0 && this.canStart(exclusive)) {
      this.take(exclusive);
      return Promise.resolve();
    }
    return new Promise((wake) => this.queue.push({ exclusive, wake }));
  }

  private take(exclusive: boolean): void {
    this.running++;
    if (exclusive) this.exclusiveRunning = true;
  }

  private release(exclusive: boolean): void {
    this.running--;
    if (exclusive) this.exclusiveRunning = false;
    while (this.queue.length > 0 && this.canStart(this.queue[0]!.exclusive)) {
      const next = this.queue.shift()!;
      this.take(next.exclusive);
      next.wake();
    }
  }
}
