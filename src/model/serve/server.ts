/**
 * An OpenAI-compatible HTTP server over TextGenerator (node:http, no framework), faithful to
 * what the official `openai` client relies on:
 *   GET  /v1/models, GET /v1/models/{id}     (an unknown id: 404 `model_not_found`)
 *   POST /v1/chat/completions                (non-streaming, or `stream: true` as server-sent
 *                                             events: `data: {chat.completion.chunk}` lines, an
 *                                             optional usage chunk, then `data: [DONE]`)
 * One model, one request at a time (CompletionQueue). A request without `seed` gets a fresh
 * random one, as OpenAI's sampling does; with a `seed`, the same request gives the same answer.
 * A client that disconnects stops its decoding at the next token.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../../core/errors.js';
import { TextGenerator } from '../generate/generator.js';
import { CompletionQueue, type CompletionOutcome } from './completion.js';
import { servedModelId } from './model-id.js';
import { parseChatRequest, RequestError, type ChatRequest } from './request.js';

export interface ServerOptions {
  modelDir: string;
  adapterDir?: string;
  port: number;
  /** Default 127.0.0.1 (local only). */
  host?: string;
  threads?: number;
  /** The `model` id served; default the model's name (see servedModelId). */
  modelName?: string;
  /** Called when a completion request ends (answered, refused or cancelled): an access log. */
  onRequest?: (event: ServedRequest) => void;
}

export interface ServedRequest {
  id: string;
  status: number;
  stream: boolean;
  /** Absent for a request refused before generation. */
  seed?: number;
  promptTokens: number;
  completionTokens: number;
  finishReason?: CompletionOutcome['finishReason'];
  durationMs: number;
  error?: string;
}

export interface RunningServer {
  url: string;
  modelName: string;
  close(): Promise<void>;
}

/** Request bodies above this are refused with 413; OpenAI's own limit is far above any chat we can fit. */
export const MAX_BODY_BYTES = 1 << 20;
/** An over-long body is read and dropped up to here (so the 413 reaches the client), then the connection is cut. */
const MAX_DRAIN_BYTES = 64 << 20;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const generator = await TextGenerator.load(options.modelDir, { threads: options.threads ?? 1, adapterDir: options.adapterDir });
  const modelName = options.modelName ?? servedModelId(options.modelDir, options.adapterDir);
  const completions = new CompletionQueue(generator);
  const modelObject = { id: modelName, object: 'model', created: 0, owned_by: 'polypersona' };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody((err as Error).message, 'server_error'));
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/v1/models' && req.method === 'GET') {
      sendJson(res, 200, { object: 'list', data: [modelObject] });
      return;
    }
    if (url.pathname.startsWith('/v1/models/') && req.method === 'GET') {
      // The official client percent-encodes ids with a slash (`org/name`); curl users may not.
      const id = decodeURIComponent(url.pathname.slice('/v1/models/'.length));
      if (id === modelName) sendJson(res, 200, modelObject);
      else sendJson(res, 404, errorBody(notFoundMessage(id), 'invalid_request_error', 'model', 'model_not_found'));
      return;
    }
    if (url.pathname === '/v1/chat/completions') {
      if (req.method !== 'POST') {
        sendJson(res, 405, errorBody(`${req.method} is not allowed on /v1/chat/completions; use POST`, 'invalid_request_error'));
        return;
      }
      await chatCompletion(req, res);
      return;
    }
    sendJson(res, 404, errorBody(`no route ${req.method} ${url.pathname} (try GET /v1/models or POST /v1/chat/completions)`, 'invalid_request_error'));
  }

  async function chatCompletion(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const log = (event: Omit<ServedRequest, 'id' | 'durationMs'>): void => options.onRequest?.({ id, durationMs: Date.now() - started, ...event });
    let request: ChatRequest;
    try {
      request = parseChatRequest(await readBody(req));
      if (request.model !== undefined && request.model !== modelName) {
        throw new RequestError(404, notFoundMessage(request.model), 'model', 'model_not_found');
      }
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      sendJson(res, err.status, errorBody(err.message, 'invalid_request_error', err.param, err.code), err.status === 413);
      log({ status: err.status, stream: false, promptTokens: 0, completionTokens: 0, error: err.message });
      return;
    }
    // The client went away (closed the connection before the answer ended): stop decoding.
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const created = Math.floor(Date.now() / 1000);
    const outcome = request.stream
      ? await streamCompletion(res, request, id, created, gone.signal)
      : await plainCompletion(res, request, id, created, gone.signal);
    log({ status: outcome.status, stream: request.stream, seed: request.seed, promptTokens: outcome.promptTokens, completionTokens: outcome.completionTokens, finishReason: outcome.finishReason, ...(outcome.error ? { error: outcome.error } : {}) });
  }

  type Answered = Pick<ServedRequest, 'status' | 'promptTokens' | 'completionTokens' | 'finishReason' | 'error'>;

  async function plainCompletion(res: ServerResponse, request: ChatRequest, id: string, created: number, signal: AbortSignal): Promise<Answered> {
    let result: CompletionOutcome;
    try {
      result = await completions.run(request, { signal });
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      sendJson(res, err.status, errorBody(err.message, 'invalid_request_error', err.param, err.code));
      return { status: err.status, promptTokens: 0, completionTokens: 0, error: err.message };
    }
    if (result.finishReason === 'cancelled') return { status: 499, promptTokens: result.promptTokens, completionTokens: result.completionTokens, finishReason: 'cancelled' };
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: modelName,
      choices: [{ index: 0, message: { role: 'assistant', content: result.text, refusal: null }, finish_reason: result.finishReason, logprobs: null }],
      usage: usageOf(result),
    });
    return { status: 200, promptTokens: result.promptTokens, completionTokens: result.completionTokens, finishReason: result.finishReason };
  }

  async function streamCompletion(res: ServerResponse, request: ChatRequest, id: string, created: number, signal: AbortSignal): Promise<Answered> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    // With include_usage every chunk carries `usage: null`, and one chunk after the last choice carries it.
    const usageField = request.includeUsage ? { usage: null } : {};
    const send = (payload: unknown): void => {
      if (!res.writableEnded && !res.destroyed) res.write(`data: ${JSON.stringify(payload)}\n\n`);
    };
    const chunk = (delta: Record<string, unknown>, finish: string | null): void =>
      send({ id, object: 'chat.completion.chunk', created, model: modelName, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...usageField });
    chunk({ role: 'assistant', content: '' }, null);
    let answered: Answered;
    try {
      const result = await completions.run(request, { signal, onText: (text) => chunk({ content: text }, null) });
      if (result.finishReason === 'cancelled') {
        res.end();
        return { status: 499, promptTokens: result.promptTokens, completionTokens: result.completionTokens, finishReason: 'cancelled' };
      }
      chunk({}, result.finishReason);
      if (request.includeUsage) send({ id, object: 'chat.completion.chunk', created, model: modelName, choices: [], usage: usageOf(result) });
      answered = { status: 200, promptTokens: result.promptTokens, completionTokens: result.completionTokens, finishReason: result.finishReason };
    } catch (err) {
      const known = err instanceof RequestError;
      send(errorBody((err as Error).message, known ? 'invalid_request_error' : 'server_error', known ? err.param : null));
      answered = { status: known ? err.status : 500, promptTokens: 0, completionTokens: 0, error: (err as Error).message };
    }
    if (!res.writableEnded) res.end('data: [DONE]\n\n');
    return answered;
  }

  const hostName = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, hostName, () => resolve());
    });
  } catch (err) {
    // Nothing listens: free the generator's ORT session and say which address failed.
    await generator.release();
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is in use (pick another with --port, or 0 for a free one)' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UserError('listen-failed', `serve: cannot listen on ${hostName}:${options.port}: ${why}`, { cause: err });
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    modelName,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open streams end here; their decoding sees the disconnect and stops.
        server.closeAllConnections();
      });
      await completions.drain();
      await generator.release();
    },
  };
}

function notFoundMessage(model: string): string {
  return `The model '${model}' does not exist or you do not have access to it.`;
}

function usageOf(result: CompletionOutcome): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  return { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens, total_tokens: result.promptTokens + result.completionTokens };
}

/**
 * The body as text. Past MAX_BODY_BYTES the rest is read and dropped, so the client, still
 * sending, gets the 413 instead of a connection reset; past MAX_DRAIN_BYTES the connection is cut.
 */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
      else if (size > MAX_DRAIN_BYTES) req.destroy();
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) reject(new RequestError(413, `request body of ${size} bytes is over the limit of ${MAX_BODY_BYTES} bytes`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new RequestError(413, `request body over ${MAX_DRAIN_BYTES} bytes: connection closed`));
    });
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, closeAfter = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(closeAfter ? { connection: 'close' } : {}) });
  res.end(text);
}

function errorBody(message: string, type: string, param: string | null = null, code: string | null = null): { error: Record<string, unknown> } {
  return { error: { message, type, param, code } };
}
