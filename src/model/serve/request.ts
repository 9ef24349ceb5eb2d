/**
 * Validation of an OpenAI chat-completions request body. Every field we honour is checked; the
 * fields that would change an answer and that we cannot honour (`logprobs`, penalties, `n > 1`,
 * `logit_bias`) are refused with 400 rather than silently ignored.
 */
import { randomInt } from 'node:crypto';

export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    /** OpenAI's machine-readable error code (`model_not_found`), when it has one. */
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export interface ChatRequest {
  /** The `model` the client asked for (checked against the served id by the server). */
  model: string | undefined;
  messages: Array<{ role: string; content: string }>;
  temperature: number;
  topP: number;
  maxTokens: number;
  /** The request's `seed`, or a fresh random one when it gave none (`seedGiven` false). */
  seed: number;
  seedGiven: boolean;
  /** Stop sequences (at most 4, none empty): the answer ends before the first one. */
  stop: string[];
  stream: boolean;
  /** `stream_options.include_usage`: a last chunk with `usage` and no choices. */
  includeUsage: boolean;
}

const ROLES = new Set(['system', 'user', 'assistant', 'developer']);
export const DEFAULT_MAX_TOKENS = 256;
/** OpenAI's limit on stop sequences. */
const MAX_STOP_SEQUENCES = 4;
/** Seeds drawn for requests without one: the PRNG takes any 32-bit integer. */
const RANDOM_SEED_BOUND = 2 ** 31;

export function parseChatRequest(body: string): ChatRequest {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new RequestError(400, `request body is not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RequestError(400, 'request body must be a JSON object');
  const b = json as Record<string, unknown>;
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw new RequestError(400, '"messages" must be a non-empty array', 'messages');
  const messages = b.messages.map((m: unknown, i: number) => {
    const msg = m as Record<string, unknown>;
    if (typeof msg !== 'object' || msg === null || typeof msg.role !== 'string' || !ROLES.has(msg.role)) {
      throw new RequestError(400, `messages[${i}].role must be one of ${[...ROLES].join(', ')}`, `messages[${i}].role`);
    }
    const content = textContent(msg.content);
    if (content === undefined) throw new RequestError(400, `messages[${i}].content must be a string or an array of text parts`, `messages[${i}].content`);
    return { role: msg.role === 'developer' ? 'system' : msg.role, content };
  });
  if (b.model !== undefined && typeof b.model !== 'string') throw new RequestError(400, '"model" must be a string', 'model');
  const num = (key: string, fallback: number, ok: (v: number) => boolean, rule: string): number => {
    const v = b[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !ok(v)) throw new RequestError(400, `"${key}" must be ${rule}`, key);
    return v;
  };
  num('n', 1, (v) => v === 1, '1 (one choice per request)');
  refuseUnsupported(b);
  const maxTokens = num('max_completion_tokens', num('max_tokens', DEFAULT_MAX_TOKENS, (v) => Number.isInteger(v) && v > 0, 'a positive integer'), (v) => Number.isInteger(v) && v > 0, 'a positive integer');
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw new RequestError(400, '"stream" must be a boolean', 'stream');
  const stream = b.stream === true;
  const seedGiven = b.seed !== undefined && b.seed !== null;
  return {
    model: b.model as string | undefined,
    messages,
    temperature: num('temperature', 1, (v) => v >= 0 && v <= 2, 'a number in [0, 2]'),
    topP: num('top_p', 1, (v) => v > 0 && v <= 1, 'a number in (0, 1]'),
    maxTokens,
    seed: seedGiven ? num('seed', 0, (v) => Number.isSafeInteger(v), 'an integer') : randomInt(RANDOM_SEED_BOUND),
    seedGiven,
    stop: parseStop(b.stop),
    stream,
    includeUsage: parseStreamOptions(b.stream_options, stream),
  };
}

/** Fields that change the answer or its shape and that this server does not implement. */
function refuseUnsupported(b: Record<string, unknown>): void {
  if (b.logprobs === true || (b.top_logprobs !== undefined && b.top_logprobs !== null)) {
    const param = b.logprobs === true ? 'logprobs' : 'top_logprobs';
    throw new RequestError(400, `"${param}" is not supported by polypersona serve (token log-probabilities are not returned)`, param);
  }
  if (b.logprobs !== undefined && b.logprobs !== null && typeof b.logprobs !== 'boolean') throw new RequestError(400, '"logprobs" must be a boolean', 'logprobs');
  for (const key of ['frequency_penalty', 'presence_penalty']) {
    const v = b[key];
    if (v !== undefined && v !== null && v !== 0) throw new RequestError(400, `"${key}" is not supported by polypersona serve (only 0)`, key);
  }
  if (b.logit_bias !== undefined && b.logit_bias !== null && (typeof b.logit_bias !== 'object' || Object.keys(b.logit_bias).length > 0)) {
    throw new RequestError(400, '"logit_bias" is not supported by polypersona serve', 'logit_bias');
  }
  if (Array.isArray(b.tools) && b.tools.length > 0) throw new RequestError(400, '"tools" are not supported by polypersona serve', 'tools');
}

function parseStop(stop: unknown): string[] {
  if (stop === undefined || stop === null) return [];
  const list = typeof stop === 'string' ? [stop] : stop;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s === '')) {
    throw new RequestError(400, '"stop" must be a non-empty string or an array of non-empty strings', 'stop');
  }
  if (list.length > MAX_STOP_SEQUENCES) throw new RequestError(400, `"stop" takes at most ${MAX_STOP_SEQUENCES} sequences, got ${list.length}`, 'stop');
  return list as string[];
}

function parseStreamOptions(options: unknown, stream: boolean): boolean {
  if (options === undefined || options === null) return false;
  if (!stream) throw new RequestError(400, '"stream_options" is only allowed when "stream" is true', 'stream_options');
  if (typeof options !== 'object' || Array.isArray(options)) throw new RequestError(400, '"stream_options" must be an object', 'stream_options');
  const include = (options as Record<string, unknown>).include_usage;
  if (include !== undefined && typeof include !== 'boolean') throw new RequestError(400, '"stream_options.include_usage" must be a boolean', 'stream_options.include_usage');
  return include === true;
}

function textContent(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts = content.map((p) => (typeof p === 'object' && p !== null && (p as Record<string, unknown>).type === 'text' ? (p as Record<string, unknown>).text : undefined));
    return parts.every((t) => typeof t === 'string') ? parts.join('') : undefined;
  }
  return undefined;
}
