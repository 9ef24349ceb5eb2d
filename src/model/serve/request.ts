/** Validation of an OpenAI chat-completions request body (the fields we honour). */
export class RequestError extends Error {
  constructor(readonly status: number, message: string, readonly param: string | null = null) {
    super(message);
  }
}

export interface ChatRequest {
  messages: Array<{ role: string; content: string }>;
  temperature: number;
  topP: number;
  maxTokens: number;
  seed: number;
  stream: boolean;
}

const ROLES = new Set(['system', 'user', 'assistant', 'developer']);
export const DEFAULT_MAX_TOKENS = 256;

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
  const num = (key: string, fallback: number, ok: (v: number) => boolean, rule: string): number => {
    const v = b[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !ok(v)) throw new RequestError(400, `"${key}" must be ${rule}`, key);
    return v;
  };
  num('n', 1, (v) => v === 1, '1 (one choice per request)');
  const maxTokens = num('max_completion_tokens', num('max_tokens', DEFAULT_MAX_TOKENS, (v) => Number.isInteger(v) && v > 0, 'a positive integer'), (v) => Number.isInteger(v) && v > 0, 'a positive integer');
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw new RequestError(400, '"stream" must be a boolean', 'stream');
  return {
    messages,
    temperature: num('temperature', 1, (v) => v >= 0 && v <= 2, 'a number in [0, 2]'),
    topP: num('top_p', 1, (v) => v > 0 && v <= 1, 'a number in (0, 1]'),
    maxTokens,
    seed: num('seed', 0, (v) => Number.isInteger(v), 'an integer'),
    stream: b.stream === true,
  };
}

function textContent(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts = content.map((p) => (typeof p === 'object' && p !== null && (p as Record<string, unknown>).type === 'text' ? (p as Record<string, unknown>).text : undefined));
    return parts.every((t) => typeof t === 'string') ? parts.join('') : undefined;
  }
  return undefined;
}
