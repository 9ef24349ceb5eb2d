/**
 * `serve` with a model that ends its answer before the first token (issue 11): the answer is
 * "" with finish_reason "stop" (HTTP 200), streamed or not — it was an HTTP 500 ("token_ids must
 * be a non-empty array of integers") for 6 of 900 valid requests.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../../src/model/serve/index.js';
import { eosFirstModelDir } from '../generate/eos-first-fixture.js';

const messages = [{ role: 'user' as const, content: 'question 55' }];
let server: RunningServer | undefined;
let modelDir: string | undefined;
afterAll(async () => {
  await server?.close();
  if (modelDir) rmSync(dirname(modelDir), { recursive: true, force: true });
});

describe('serve: an empty answer', () => {
  it('is 200 with content "" and finish_reason stop, streamed and not', async () => {
    modelDir = (await eosFirstModelDir([messages])).dir;
    server = await startServer({ modelDir, port: 0, modelName: 'tiny' });
    const post = (body: unknown): Promise<Response> => fetch(`${server!.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const res = await post({ messages, max_tokens: 4, temperature: 0 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string }; finish_reason: string }>; usage: { completion_tokens: number } };
    expect(body.choices[0]!.message.content).toBe('');
    expect(body.choices[0]!.finish_reason).toBe('stop');
    expect(body.usage.completion_tokens).toBe(0);

    const stream = await post({ messages, max_tokens: 4, temperature: 0, stream: true });
    const events = (await stream.text()).split('\n\n').filter((e) => e.trim()).map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: Array<{ delta: { content?: string }; finish_reason: string | null }> });
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? '').join('')).toBe('');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
  });
});
