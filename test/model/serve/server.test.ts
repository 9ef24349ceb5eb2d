import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import { startServer, type RunningServer } from '../../../src/model/serve/index.js';
import { parseChatRequest } from '../../../src/model/serve/request.js';
import { tinyModelDir } from '../llama/model-dir-fixture.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ modelDir: tinyModelDir().dir, port: 0, modelName: 'tiny-persona' });
});
afterAll(async () => server?.close());

const body = { model: 'tiny-persona', messages: [{ role: 'system', content: 'You are a respondent.' }, { role: 'user', content: 'How often do you exercise?' }], max_tokens: 8, temperature: 0.8, seed: 3 };

async function post(payload: unknown, raw?: string): Promise<Response> {
  return fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ?? JSON.stringify(payload) });
}

describe('OpenAI-compatible server', () => {
  it('listens on 127.0.0.1 and lists the model', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${server.url}/v1/models`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ object: 'list', data: [{ id: 'tiny-persona', object: 'model', created: 0, owned_by: 'polypersona' }] });
  });

  it('answers a chat completion; the same seed gives the same answer', async () => {
    const a = (await (await post(body)).json()) as any;
    expect(a.object).toBe('chat.completion');
    expect(a.choices[0].message.role).toBe('assistant');
    expect(typeof a.choices[0].message.content).toBe('string');
    expect(['stop', 'length']).toContain(a.choices[0].finish_reason);
    expect(a.usage.completion_tokens).toBeLessThanOrEqual(8);
    expect(a.usage.total_tokens).toBe(a.usage.prompt_tokens + a.usage.completion_tokens);
    const b = (await (await post(body)).json()) as any;
    expect(b.choices[0].message.content).toBe(a.choices[0].message.content);
  });

  it('streams server-sent events whose deltas add up to the non-streamed answer', async () => {
    const full = (await (await post(body)).json()) as any;
    const res = await post({ ...body, stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await res.text()).split('\n\n').filter((e) => e.trim()).map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe(full.choices[0].message.content);
    expect(chunks.at(-1).choices[0].finish_reason).toBe(full.choices[0].finish_reason);
  });

  it('returns 400 with an OpenAI error object for bad requests', async () => {
    const bad = await post(undefined, '{"messages": [');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toMatch(/not valid JSON/);
    const noMessages = await post({ model: 'x' });
    expect(noMessages.status).toBe(400);
    expect(((await noMessages.json()) as any).error.param).toBe('messages');
    expect((await post({ ...body, temperature: 5 })).status).toBe(400);
    expect((await post({ ...body, messages: [{ role: 'robot', content: 'hi' }] })).status).toBe(400);
    expect((await fetch(`${server.url}/v1/chat/completions`)).status).toBe(405);
    expect((await fetch(`${server.url}/v1/nothing`)).status).toBe(404);
  });

  it('refuses a port that is in use with a UserError naming the address', async () => {
    const port = Number(new URL(server.url).port);
    const err = await startServer({ modelDir: tinyModelDir().dir, port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain(`127.0.0.1:${port}: the port is in use`);
  });

  it('parses text-part content and max_completion_tokens', () => {
    const r = parseChatRequest(JSON.stringify({ messages: [{ role: 'developer', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }, { role: 'user', content: 'q' }], max_completion_tokens: 5 }));
    expect(r.messages[0]).toEqual({ role: 'system', content: 'ab' });
    expect(r.maxTokens).toBe(5);
    expect(r.temperature).toBe(1);
  });
});
