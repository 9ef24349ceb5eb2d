import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { writeFileAtomic } from '../../core/atomic.js';
import { hashJson } from '../../core/canonical-json.js';
import { redactSecrets, registerSecret } from '../../core/secrets.js';
import type { ChatMessage } from '../../formats/chatml.js';
import { StageFailure } from '../../core/errors.js';

/**
 * A teacher behind any OpenAI-compatible `POST /v1/chat/completions` server (OpenAI, vLLM,
 * Ollama, llama.cpp server, `polypersona serve`).
 *
 * - concurrency: at most `concurrency` requests in flight (p-limit);
 * - retries: network errors, timeouts, HTTP 408/429/5xx and malformed bodies are retried up to
 *   `maxRetries` times with exponential backoff (backoffMs · 2^attempt, capped at maxBackoffMs;
 *   a Retry-After header in seconds wins when longer); other 4xx fail at once;
 * - timeouts: each attempt is aborted after `timeoutMs`;
 * - cache: every successful answer is stored under `cacheDir/<sha256 of the request>.json`
 *   (written atomically), so an interrupted run resumes without asking again;
 * - failures: a record whose attempts are exhausted is returned in `failures`, never thrown.
 */
export interface OpenAiTeacherOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  concurrency: number;
  maxRetries: number;
  timeoutMs: number;
  backoffMs: number;
  maxBackoffMs: number;
  temperature: number;
  maxTokens: number;
  /** Sent as `seed` (servers that support it sample reproducibly). */
  seed?: number;
  cacheDir: string;
  signal?: AbortSignal;
}

export interface TeacherRequest {
  id: string;
  messages: ChatMessage[];
}

export interface TeacherFailure {
  id: string;
  reason: string;
  attempts: number;
}

export interface TeacherRun {
  answers: Map<string, string>;
  failures: TeacherFailure[];
  stats: { requests: number; cacheHits: number; retries: number };
}

class RetryableError extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/** The chat-completions endpoint for a base URL given with or without a trailing `/v1`. */
export function chatCompletionsUrl(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return /\/v\d+$/.test(base) ? `${base}/chat/completions` : `${base}/v1/chat/completions`;
}

export async function askOpenAiTeacher(requests: TeacherRequest[], options: OpenAiTeacherOptions, onDone?: (done: number) => void): Promise<TeacherRun> {
  const url = chatCompletionsUrl(options.baseUrl);
  // The key may come from any variable (api_key_env): make it known, so every error text drops it.
  registerSecret(options.apiKey);
  const limit = pLimit(Math.max(1, options.concurrency));
  const answers = new Map<string, string>();
  const failures: TeacherFailure[] = [];
  const stats = { requests: 0, cacheHits: 0, retries: 0 };
  let done = 0;
  await Promise.all(
    requests.map((req) =>
      limit(async () => {
        options.signal?.throwIfAborted();
        const body: Record<string, unknown> = { model: options.model, messages: req.messages, temperature: options.temperature, max_tokens: options.maxTokens };
        if (options.seed !== undefined) body.seed = options.seed;
        // The key leaves out the API key: a rotated key must not invalidate the cache.
        const cacheFile = join(options.cacheDir, `${hashJson({ url, body })}.json`);
        const cached = readCache(cacheFile);
        if (cached !== undefined) {
          stats.cacheHits++;
          answers.set(req.id, cached);
        } else {
          const outcome = await withRetries(url, body, options, stats);
          if (outcome.ok) {
            writeFileAtomic(cacheFile, JSON.stringify({ request: body, content: outcome.content }));
            answers.set(req.id, outcome.content);
          } else failures.push({ id: req.id, reason: outcome.reason, attempts: outcome.attempts });
        }
        onDone?.(++done);
      }),
    ),
  );
  options.signal?.throwIfAborted();
  const order = new Map(requests.map((r, i) => [r.id, i]));
  failures.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  return { answers, failures, stats };
}

function readCache(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { content?: unknown };
    return typeof parsed.content === 'string' ? parsed.content : undefined;
  } catch {
    return undefined; // a damaged entry is asked again and overwritten
  }
}

type Outcome = { ok: true; content: string } | { ok: false; reason: string; attempts: number };

async function withRetries(url: string, body: Record<string, unknown>, o: OpenAiTeacherOptions, stats: TeacherRun['stats']): Promise<Outcome> {
  let lastReason = '';
  for (let attempt = 0; attempt <= o.maxRetries; attempt++) {
    if (attempt > 0) stats.retries++;
    stats.requests++;
    try {
      return { ok: true, content: await attemptOnce(url, body, o) };
    } catch (err) {
      if (o.signal?.aborted) throw o.signal.reason;
      // A server may echo the Authorization header in its error body: reasons go to failures.jsonl.
      if (!(err instanceof RetryableError)) return { ok: false, reason: redactSecrets((err as Error).message), attempts: attempt + 1 };
      lastReason = redactSecrets(err.message);
      if (attempt === o.maxRetries) break;
      const backoff = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** attempt);
      await sleep(Math.max(backoff, Math.min(err.retryAfterMs ?? 0, o.maxBackoffMs)), o.signal);
    }
  }
  return { ok: false, reason: `${lastReason} (gave up after ${o.maxRetries + 1} attempts)`, attempts: o.maxRetries + 1 };
}

async function attemptOnce(url: string, body: Record<string, unknown>, o: OpenAiTeacherOptions): Promise<string> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.apiKey) headers.authorization = `Bearer ${o.apiKey}`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal });
    text = await response.text();
  } catch (err) {
    if (o.signal?.aborted) throw err;
    if (timeout.aborted) throw new RetryableError(`timed out after ${o.timeoutMs} ms`);
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new RetryableError(`cannot reach ${url}: ${cause ?? (err as Error).message}`);
  }
  if (!response.ok) {
    const snippet = text.slice(0, 200).replace(/\s+/g, ' ');
    const message = `HTTP ${response.status}${snippet ? `: ${snippet}` : ''}`;
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      const ra = Number(response.headers.get('retry-after'));
      throw new RetryableError(message, Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined);
    }
    throw new StageFailure('teacher-request', message);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RetryableError(`malformed JSON in response: ${text.slice(0, 80).replace(/\s+/g, ' ')}`);
  }
  const content = (parsed as { choices?: Array<{ message?: { content?: unknown } }> }).choices?.[0]?.message?.content;
  if (typeof content !== 'string' || content.trim() === '') throw new RetryableError('response has no choices[0].message.content');
  return content.trim();
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
