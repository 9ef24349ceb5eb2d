/**
 * `polypersona serve` against the official `openai` npm client: the contract a synthetic-respondent
 * script relies on (stop sequences, seeds, usage in streams, model ids, errors).
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, startServer, type RunningServer, type ServedRequest } from '../../../src/model/serve/index.js';
import { tinyModelDir } from '../llama/model-dir-fixture.js';

let server: RunningServer;
let client: OpenAI;
/** Every finished request, in order; `nextServed` waits for the next one. */
const served: ServedRequest[] = [];
let waiters: Array<(r: ServedRequest) => void> = [];
const nextServed = (): Promise<ServedRequest> => new Promise((resolve) => waiters.push(resolve));

const MODEL = 'tiny-persona';
const messages = [
  { role: 'system' as const, content: 'You are a respondent.' },
  { role: 'user' as const, content: 'How often do you exercise?' },
];

beforeAll(async () => {
  // Init seed 1 with 4,096 positions: its greedy answer runs 3,000 tokens without an end token,
  // so a disconnected stream can only end early by being cancelled.
  server = await startServer({
    modelDir: tinyModelDir({ maxPositionEmbeddings: 4096 }, 1).dir,
    port: 0,
    modelName: MODEL,
    onRequest: (r) => {
      served.push(r);
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve(r);
    },
  });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });
});
afterAll(async () => server?.close());

/** A stop sequence the seeded answer contains: two printable ASCII characters from its middle. */
function stopFrom(text: string): string {
  for (let k = Math.floor(text.length / 4); k + 2 <= text.length; k++) {
    const pair = text.slice(k, k + 2);
    if (/^[\x20-\x7e]{2}$/.test(pair)) return pair;
  }
  throw new Error(`no printable pair in ${JSON.stringify(text)}`);
}

async function streamed(params: Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, 'model' | 'messages' | 'stream'>) {
  const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true, ...params });
  const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  const finish = chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean);
  return { chunks, text, finish };
}

describe('polypersona serve with the official openai client', () => {
  it('ends the answer before a stop string, with finish_reason "stop", streamed and not', async () => {
    const full = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 40, temperature: 1, seed: 3 });
    const text = full.choices[0]!.message.content!;
    const stop = stopFrom(text);
    const expected = text.slice(0, text.indexOf(stop));

    const cut = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 40, temperature: 1, seed: 3, stop });
    expect(cut.choices[0]!.message.content).toBe(expected);
    expect(cut.choices[0]!.finish_reason).toBe('stop');
    // Decoding stopped at the stop string, not at max_tokens.
    expect(cut.usage!.completion_tokens).toBeLessThan(full.usage!.completion_tokens);

    const s = await streamed({ max_tokens: 40, temperature: 1, seed: 3, stop: ['never-in-this-text', stop] });
    expect(s.text).toBe(expected);
    expect(s.finish).toEqual(['stop']);
    for (const c of s.chunks) expect(c.choices[0]?.delta.content ?? '').not.toContain(stop);
  });

  it('without a seed, each request samples anew; with one, answers repeat', async () => {
    const ask = async (seed?: number) => (await client.chat.completions.create({ model: MODEL, messages, max_tokens: 16, temperature: 1, ...(seed === undefined ? {} : { seed }) })).choices[0]!.message.content;
    const unseeded = [await ask(), await ask(), await ask()];
    expect(new Set(unseeded).size).toBeGreaterThan(1);
    expect(await ask(11)).toBe(await ask(11));
  });

  it('streams usage in a last chunk without choices when stream_options.include_usage is set', async () => {
    const plain = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 12, temperature: 1, seed: 5 });
    const s = await streamed({ max_tokens: 12, temperature: 1, seed: 5, stream_options: { include_usage: true } });
    const last = s.chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(plain.usage);
    expect(s.chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(s.text).toBe(plain.choices[0]!.message.content);
    const without = await streamed({ max_tokens: 12, temperature: 1, seed: 5 });
    expect(without.chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
  });

  it('retrieves the model by id and answers unknown models with 404', async () => {
    expect((await client.models.list()).data.map((m) => m.id)).toEqual([MODEL]);
    expect(await client.models.retrieve(MODEL)).toMatchObject({ id: MODEL, object: 'model' });
    await expect(client.models.retrieve('gpt-4o')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const err = await client.chat.completions.create({ model: 'gpt-4o', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('refuses logprobs with 400 instead of ignoring them', async () => {
    const err = await client.chat.completions.create({ model: MODEL, messages, logprobs: true, top_logprobs: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toMatch(/logprobs/);
  });

  it('answers an over-long body with a 413 JSON error, not a connection reset', async () => {
    const big = 'x'.repeat(2 * MAX_BODY_BYTES);
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: big }] }) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/over the limit/);
    const err = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: big }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
  });

  it('stops decoding when the client disconnects mid-stream', async () => {
    const controller = new AbortController();
    const ended = nextServed();
    const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true, max_tokens: 3000, temperature: 0 }, { signal: controller.signal });
    const read = (async () => {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) controller.abort();
      }
    })().catch(() => undefined);
    const record = await ended;
    await read;
    expect(record.finishReason).toBe('cancelled');
    expect(record.completionTokens).toBeLessThan(3000);
    // The server is free again at once.
    const after = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 4, seed: 1 });
    expect(after.choices[0]!.finish_reason).toBeDefined();
  });
});
