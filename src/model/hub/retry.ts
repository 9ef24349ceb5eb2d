/**
 * Retries for hub requests, as huggingface_hub does: a 429 (rate limited), a 5xx or a network
 * error is tried again after a delay that doubles each time (base, 2·base, 4·base, … up to
 * `maxDelayMs`), or after the server's `Retry-After` when it sends one. Anything else (401, 404,
 * a bad answer) is final at once.
 *
 *   attempts 5, base 1000 ms: waits 1 s, 2 s, 4 s, 8 s between the five tries (15 s in all)
 */
export interface RetryPolicy {
  /** Tries in all, the first included (default 5). */
  attempts: number;
  /** First delay, ms (default 1000). */
  baseDelayMs: number;
  /** Longest delay, ms, Retry-After included (default 30 000). */
  maxDelayMs: number;
  /** How to wait (tests pass one that records the delays). Must reject when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** Whether an HTTP status is worth another try. */
export function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** The wait before try `attempt + 1` (attempt counts from 1), honouring `Retry-After` (seconds or an HTTP date). */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfter: string | null | undefined, now = Date.now()): number {
  let ms = policy.baseDelayMs * 2 ** (attempt - 1);
  if (retryAfter) {
    const seconds = Number(retryAfter);
    const at = Number.isFinite(seconds) ? now + seconds * 1000 : Date.parse(retryAfter);
    if (Number.isFinite(at)) ms = Math.max(0, at - now);
  }
  return Math.min(ms, policy.maxDelayMs);
}

export function sleepFor(policy: RetryPolicy): (ms: number, signal?: AbortSignal) => Promise<void> {
  return policy.sleep ?? abortableSleep;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
