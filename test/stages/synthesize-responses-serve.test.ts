import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import samplePersonas from '../../stages/sample-personas/index.js';
import stage from '../../stages/synthesize-responses/index.js';
import { artifact, makeStageContext } from '../helpers/stage-context.js';
import { startServer, type RunningServer } from '../../src/model/serve/index.js';
import { tinyModelDir } from '../model/llama/model-dir-fixture.js';

/**
 * The openai teacher against the project's own `polypersona serve` (a tiny random model on
 * 127.0.0.1), with a proxy in front of it that injects faults on the first attempt of every
 * request: 429, 500, a stall past the client timeout, or a malformed body, in rotation.
 */
let serve: RunningServer;
let proxy: Server;
let proxyUrl: string;
const attempts = new Map<string, number>();
let forwarded = 0;

beforeAll(async () => {
  serve = await startServer({ modelDir: tinyModelDir({ maxPositionEmbeddings: 2048 }).dir, port: 0, modelName: 'tiny' });
  let n = 0;
  proxy = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const k = (attempts.get(body) ?? 0) + 1;
      attempts.set(body, k);
      const fault = k === 1 ? ['429', '500', 'stall', 'junk', 'none'][n++ % 5] : 'none';
      if (fault === '429') { res.writeHead(429, { 'retry-after': '0' }); res.end('{"error":{"message":"rate limited"}}'); return; }
      if (fault === '500') { res.writeHead(500); res.end('{"error":{"message":"boom"}}'); return; }
      if (fault === 'junk') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('<html>gateway</html>'); return; }
      const forward = () => {
        forwarded++;
        const up = httpRequest(`${serve.url}${req.url}`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (r) => {
          res.writeHead(r.statusCode ?? 502, { 'content-type': 'application/json' });
          r.pipe(res);
        });
        up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
        up.end(body);
      };
      // A stall never answers (afterAll closes the connection): the client must time out and retry.
      // Forwarding it late would race with the second run's `forwarded` count below.
      if (fault !== 'stall') forward();
    });
  });
  await new Promise<void>((res) => proxy.listen(0, '127.0.0.1', () => res()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});
afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise<void>((res) => proxy.close(() => res()));
  await serve?.close();
});

describe('synthesize-responses with the openai teacher on polypersona serve', () => {
  it('answers every record through injected faults, reproducibly', async () => {
    const p = makeStageContext(samplePersonas, { count: 4, records: 10, seed: 2 });
    await samplePersonas.run(p.ctx);
    const personas = artifact('personas', p.outDir);
    const teacher = { kind: 'openai', base_url: `${proxyUrl}/v1`, model: 'tiny', concurrency: 2, max_retries: 3, timeout_ms: 3000, backoff_ms: 1, max_backoff_ms: 5, max_tokens: 6 };
    const a = makeStageContext(stage, { teacher }, { inputs: [personas], seed: 11 });
    await stage.run(a.ctx);
    const records = readFileSync(join(a.outDir, 'dataset.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(10);
    expect(readFileSync(join(a.outDir, 'failures.jsonl'), 'utf8')).toBe('');
    expect([...attempts.values()].filter((k) => k === 2).length).toBeGreaterThanOrEqual(7); // 4 of 5 first attempts faulted
    for (const r of records) {
      expect(typeof r.reference).toBe('string');
      expect(r.meta.teacher).toBe('openai:tiny');
    }
    // The request carries the stage seed, so the server samples the same answers again.
    const before = forwarded;
    const b = makeStageContext(stage, { teacher: { ...teacher, base_url: serve.url } }, { inputs: [personas], seed: 11 });
    await stage.run(b.ctx);
    expect(readFileSync(join(b.outDir, 'dataset.jsonl'), 'utf8')).toBe(readFileSync(join(a.outDir, 'dataset.jsonl'), 'utf8'));
    expect(forwarded).toBe(before); // the second run went to the server directly
  });
});
