/**
 * An OpenAI-compatible HTTP server over TextGenerator (node:http, no framework):
 *   GET  /v1/models
 *   POST /v1/chat/completions   (non-streaming, or `stream: true` as server-sent events:
 *                                `data: {chat.completion.chunk}` lines, then `data: [DONE]`)
 * One model, one request at a time (the decoder's KV cache is per generator; requests queue).
 * Sampling follows OpenAI's defaults (temperature 1, top_p 1); `seed` defaults to 0, so the
 * same request gives the same answer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { UserError } from '../../core/errors.js';
import type { ChatMessage } from '../../formats/chatml.js';
import { TextGenerator, type GenerationResult } from '../generate/generator.js';
import { parseChatRequest, RequestError, type ChatRequest } from './request.js';

export interface ServerOptions {
  modelDir: string;
  adapterDir?: string;
  port: number;
  /** Default 127.0.0.1 (local only). */
  host?: string;
  threads?: number;
  /** The `model` id reported by /v1/models; default the model (or adapter) dir's name. */
  modelName?: string;
}

export interface RunningServer {
  url: string;
  modelName: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const generator = await TextGenerator.load(options.modelDir, { threads: options.threads ?? 1, adapterDir: options.adapterDir });
  const modelName = options.modelName ?? basename(options.adapterDir ?? options.modelDir);
  let queue: Promise<unknown> = Promise.resolve();
  let counter = 0;
  /** Runs jobs one after another: the generator holds one KV cache. */
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const next = queue.then(job, job);
    queue = next.catch(() => undefined);
    return next;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody((err as Error).message, 'server_error'));
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/v1/models' && req.method === 'GET') {
      sendJson(res, 200, { object: 'list', data: [{ id: modelName, object: 'model', created: 0, owned_by: 'polypersona' }] });
      return;
    }
    if (url.pathname === '/v1/chat/completions') {
      if (req.method !== 'POST') {
        sendJson(res, 405, errorBody(`${req.method} is not allowed on /v1/chat/completions; use POST`, 'invalid_request_error'));
        return;
      }
      let request: ChatRequest;
      try {
        request = parseChatRequest(await readBody(req));
      } catch (err) {
        if (err instanceof RequestError) {
          sendJson(res, err.status, errorBody(err.message, 'invalid_request_error', err.param));
          return;
        }
        throw err;
      }
      const id = `chatcmpl-${++counter}`;
      const created = Math.floor(Date.now() / 1000);
      if (request.stream) await streamCompletion(res, request, id, created);
      else {
        let result: GenerationResult;
        try {
          result = await serial(() => run(request));
        } catch (err) {
          if (!(err instanceof RequestError)) throw err;
          sendJson(res, err.status, errorBody(err.message, 'invalid_request_error', err.param));
          return;
        }
        sendJson(res, 200, {
          id,
          object: 'chat.completion',
          created,
          model: modelName,
          choices: [{ index: 0, message: { role: 'assistant', content: result.text }, finish_reason: result.finishReason, logprobs: null }],
          usage: { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens, total_tokens: result.promptTokens + result.completionTokens },
        });
      }
      return;
    }
    sendJson(res, 404, errorBody(`no route ${req.method} ${url.pathname} (try GET /v1/models or POST /v1/chat/completions)`, 'invalid_request_error'));
  }

  function run(request: ChatRequest, onToken?: (tokens: number[]) => void): Promise<GenerationResult> {
    const ids = generator.encodeChat(request.messages as ChatMessage[]);
    if (ids.length >= generator.cfg.maxPositionEmbeddings) {
      throw new RequestError(400, `the prompt has ${ids.length} tokens; the model has ${generator.cfg.maxPositionEmbeddings} positions`, 'messages');
    }
    const tokens: number[] = [];
    return generator
      .generate([{ ids, label: 'request' }], {
        doSample: request.temperature > 0,
        temperature: request.temperature,
        topP: request.topP,
        topK: 0,
        maxNewTokens: request.maxTokens,
        seed: request.seed,
        onToken: onToken && ((_, id) => onToken((tokens.push(id), tokens))),
      })
      .then((r) => r[0]!);
  }

  async function streamCompletion(res: ServerResponse, request: ChatRequest, id: string, created: number): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: modelName, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`);
    chunk({ role: 'assistant', content: '' }, null);
    let sent = '';
    try {
      const result = await serial(() =>
        run(request, (tokens) => {
          const text = generator.decode(tokens);
          // Hold back a partial UTF-8 character until its remaining bytes arrive.
          if (text.endsWith('\uFFFD') || !text.startsWith(sent) || text.length === sent.length) return;
          chunk({ content: text.slice(sent.length) }, null);
          sent = text;
        }),
      );
      if (result.text.length > sent.length && result.text.startsWith(sent)) chunk({ content: result.text.slice(sent.length) }, null);
      chunk({}, result.finishReason);
    } catch (err) {
      res.write(`data: ${JSON.stringify(errorBody((err as Error).message, err instanceof RequestError ? 'invalid_request_error' : 'server_error'))}\n\n`);
    }
    res.end('data: [DONE]\n\n');
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
        server.closeAllConnections();
      });
      await queue;
      await generator.release();
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RequestError(413, `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function errorBody(message: string, type: string, param: string | null = null): { error: Record<string, unknown> } {
  return { error: { message, type, param, code: null } };
}
