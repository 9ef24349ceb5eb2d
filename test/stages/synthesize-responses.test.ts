import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import samplePersonas from '../../stages/sample-personas/index.js';
import stage from '../../stages/synthesize-responses/index.js';
import { artifact, makeStageContext } from '../helpers/stage-context.js';

async function personasArtifact(count: number, records: number, seed = 3) {
  const r = makeStageContext(samplePersonas, { count, records, seed });
  await samplePersonas.run(r.ctx);
  return artifact('personas', r.outDir, 'personas');
}

async function synth(params: Record<string, unknown>, personas: ReturnType<typeof artifact>, options: { seed?: number; workDir?: string; signal?: AbortSignal } = {}) {
  const r = makeStageContext(stage, params, { inputs: [personas], seed: options.seed, signal: options.signal });
  if (options.workDir) r.ctx.workDir = options.workDir;
  await stage.run(r.ctx);
  const read = (f: string) => readFileSync(join(r.outDir, f), 'utf8');
  const jsonl = (f: string) => read(f).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
  return { ...r, read, jsonl };
}

describe('synthesize-responses, template teacher', () => {
  it('answers every assignment, deterministically per seed', async () => {
    const personas = await personasArtifact(12, 40);
    const a = await synth({}, personas, { seed: 1 });
    const b = await synth({}, personas, { seed: 1 });
    const c = await synth({}, personas, { seed: 2 });
    expect(a.read('dataset.jsonl')).toBe(b.read('dataset.jsonl'));
    expect(c.read('dataset.jsonl')).not.toBe(a.read('dataset.jsonl'));
    const records = a.jsonl('dataset.jsonl');
    const assignments = readFileSync(join(personas.dir, 'assignments.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => r.id)).toEqual(assignments.map((x: { id: string }) => x.id));
    expect(a.read('failures.jsonl')).toBe('');
    for (const r of records) {
      expect(r.meta.synthetic).toBe(true);
      expect(r.reference.length).toBeGreaterThan(10);
      expect(typeof r.question.text).toBe('string');
      expect(r.persona.id).toBe(r.meta.persona_id);
      if (r.question_type === 'open') {
        const sentences = r.reference.split(/(?<=[.!?])\s+/);
        expect(sentences.length).toBeGreaterThanOrEqual(1);
        expect(sentences.length).toBeLessThanOrEqual(3);
        expect(r.reference).toMatch(new RegExp(`${r.persona.occupation}|retiree|job seeker|${r.persona.age}|To be frank`));
      } else {
        const { level, label } = r.meta.answer;
        expect(r.question.scale.labels[level - 1]).toBe(label);
        expect(r.reference.startsWith(label)).toBe(true);
      }
    }
  });

  it('closed answers follow the latent attitude (and flip for reverse-scored items)', async () => {
    const personas = await personasArtifact(80, 600, 9);
    const records = (await synth({}, personas)).jsonl('dataset.jsonl').filter((r) => r.question_type !== 'open');
    // normalised position in [0,1], flipped back for reverse-scored items, against the attitude value
    const xs = records.map((r) => r.meta.attitude_value as number);
    const ys = records.map((r) => {
      const { points, reverse_scored } = r.question.scale;
      const pos = (r.meta.answer.level - 1) / (points - 1);
      return reverse_scored ? 1 - pos : pos;
    });
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const mx = mean(xs), my = mean(ys);
    const cov = mean(xs.map((x, i) => (x - mx) * (ys[i]! - my)));
    const corr = cov / Math.sqrt(mean(xs.map((x) => (x - mx) ** 2)) * mean(ys.map((y) => (y - my) ** 2)));
    expect(corr).toBeGreaterThan(0.7);
  });
});

// ---- a fake OpenAI-compatible server with injected faults -------------------------------------

/**
 * Faults are decided by the server, never by timing: 'reset' drops the connection of the first
 * attempt, 'stall' answers the first attempt never (it waits for the client to give up). Tests on
 * a busy 2-core machine then see the same attempts on every run.
 */
type Fault = 'ok' | '429' | '500' | 'reset' | 'stall' | 'junk' | '400';
interface FakeServer { url: string; server: Server; calls: Map<string, number>; auth: Set<string | undefined>; total: () => number }
function faultOf(content: string, plan: (h: number) => Fault): Fault {
  return plan(createHash('sha256').update(content).digest().readUInt32BE(0));
}
async function startServer(plan: (h: number) => Fault): Promise<FakeServer> {
  const calls = new Map<string, number>();
  const auth = new Set<string | undefined>();
  let total = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      total++;
      auth.add(req.headers.authorization);
      if (req.url !== '/v1/chat/completions') { res.writeHead(404); res.end(); return; }
      const parsed = JSON.parse(body) as { model: string; messages: Array<{ content: string }> };
      const user = parsed.messages[1]!.content;
      const attempt = (calls.get(user) ?? 0) + 1;
      calls.set(user, attempt);
      const fault = faultOf(user, plan);
      const answer = () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: `answer from ${parsed.model} #${user.length}` } }] })); };
      if (fault === 'junk') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"choices": [ {"mess'); return; }
      if (fault === '400') { res.writeHead(400); res.end('{"error": "bad request"}'); return; }
      if (attempt > 1 || fault === 'ok') return answer();
      if (fault === '429') { res.writeHead(429, { 'retry-after': '0' }); res.end('slow down'); return; }
      if (fault === '500') { res.writeHead(500); res.end('oops'); return; }
      if (fault === 'reset') { req.socket.destroy(); return; }
      // 'stall': no answer until the client's timeout aborts the attempt and closes the connection.
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, calls, auth, total: () => total };
}

describe('synthesize-responses, openai teacher against a local server', () => {
  let fake: FakeServer | undefined;
  afterEach(async () => {
    delete process.env.PP_TEST_KEY;
    if (fake) await new Promise<void>((res) => { fake!.server.close(() => res()); fake!.server.closeAllConnections(); });
    fake = undefined;
  });
  // A timeout no answer reaches even on a busy machine: only a 'stall' ever times out.
  const teacher = (url: string, extra: Record<string, unknown> = {}) => ({ kind: 'openai', base_url: url, model: 'tiny', api_key_env: 'PP_TEST_KEY', concurrency: 3, max_retries: 3, timeout_ms: 60_000, backoff_ms: 1, max_backoff_ms: 5, ...extra });

  it('retries 429/500/dropped connections, reports malformed JSON per record, and sends the key', async () => {
    const plan = (h: number): Fault => (['ok', '429', '500', 'reset', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'junk'] as Fault[])[h % 12]!;
    fake = await startServer(plan);
    process.env.PP_TEST_KEY = 'sk-test';
    const personas = await personasArtifact(10, 36);
    const r = await synth({ teacher: teacher(fake.url), max_failure_share: 0.5 }, personas);
    const records = r.jsonl('dataset.jsonl');
    const failures = r.jsonl('failures.jsonl');
    const users = [...fake.calls.keys()];
    const junk = users.filter((u) => faultOf(u, plan) === 'junk');
    const flaky = users.filter((u) => ['429', '500', 'reset'].includes(faultOf(u, plan)));
    expect(flaky.length).toBeGreaterThan(0);
    expect(junk.length).toBeGreaterThan(0);
    expect(records.length + failures.length).toBe(36);
    expect(failures).toHaveLength(junk.length);
    for (const f of failures) {
      expect(f.reason).toMatch(/malformed JSON in response.*gave up after 4 attempts/);
      expect(f.attempts).toBe(4);
    }
    for (const u of flaky) expect(fake.calls.get(u)).toBe(2);
    for (const u of junk) expect(fake.calls.get(u)).toBe(4);
    for (const rec of records) expect(rec.reference).toMatch(/^answer from tiny #\d+$/);
    expect([...fake.auth]).toEqual(['Bearer sk-test']);
    expect(r.provenance.teacher_requests).toMatchObject({ cache_hits: 0 });
  });

  it('gives up on an attempt after timeout_ms and asks again', async () => {
    fake = await startServer(() => 'stall');
    const personas = await personasArtifact(1, 1);
    // 1 s: the stalled first attempt costs a second; the answered retry has 60× that to arrive.
    const r = await synth({ teacher: teacher(fake.url, { timeout_ms: 1000, max_retries: 3 }) }, personas);
    expect(r.jsonl('dataset.jsonl')).toHaveLength(1);
    expect(r.jsonl('failures.jsonl')).toHaveLength(0);
    expect([...fake.calls.values()][0]).toBeGreaterThanOrEqual(2);
  });

  it('fails above max_failure_share with the report kept in workDir', async () => {
    fake = await startServer(() => 'junk');
    const personas = await personasArtifact(5, 12);
    const r = makeStageContext(stage, { teacher: teacher(fake.url, { max_retries: 1 }) }, { inputs: [personas] });
    await expect(stage.run(r.ctx)).rejects.toThrow(/12 of 12 records got no answer \(100\.0% > max_failure_share 2\.0%\).*Full list: .*failures\.jsonl/);
    expect(readFileSync(join(r.ctx.workDir, 'failures.jsonl'), 'utf8').trim().split('\n')).toHaveLength(12);
    expect(existsSync(join(r.outDir, 'dataset.jsonl'))).toBe(false);
  });

  it('reports a server that is down or refuses the request', async () => {
    fake = await startServer(() => '400');
    const personas = await personasArtifact(5, 12);
    const bad = makeStageContext(stage, { teacher: teacher(fake.url) }, { inputs: [personas] });
    await expect(stage.run(bad.ctx)).rejects.toThrow(/HTTP 400/);
    expect(fake.total()).toBe(12); // a 400 is not retried
    const url = fake.url;
    await new Promise<void>((res) => fake!.server.close(() => res()));
    fake = undefined;
    const down = makeStageContext(stage, { teacher: teacher(url, { max_retries: 1 }) }, { inputs: [personas] });
    await expect(stage.run(down.ctx)).rejects.toThrow(/cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: ECONNREFUSED/);
  });

  it('resumes an interrupted run from the request cache without asking again', async () => {
    fake = await startServer(() => 'ok');
    const personas = await personasArtifact(8, 24);
    const first = makeStageContext(stage, { teacher: teacher(fake.url, { concurrency: 1 }) }, { inputs: [personas] });
    const controller = new AbortController();
    first.ctx.signal = controller.signal;
    const origProgress = first.ctx.progress;
    first.ctx.progress = (done, total, note) => { origProgress(done, total, note); if (done === 10) controller.abort(new Error('interrupted')); };
    await expect(stage.run(first.ctx)).rejects.toThrow(/interrupted/);
    const asked = fake.total();
    expect(asked).toBeGreaterThanOrEqual(10);
    expect(asked).toBeLessThan(24);
    const second = await synth({ teacher: teacher(fake.url, { concurrency: 1 }) }, personas, { workDir: first.ctx.workDir });
    expect(fake.total()).toBe(24); // only the unanswered ones were asked
    expect(second.provenance.teacher_requests).toMatchObject({ cache_hits: asked, requests: 24 - asked });
    expect(second.jsonl('dataset.jsonl')).toHaveLength(24);
  });

  it('requires base_url and model', async () => {
    const personas = await personasArtifact(3, 6);
    const r = makeStageContext(stage, { teacher: { kind: 'openai' } }, { inputs: [personas] });
    await expect(stage.run(r.ctx)).rejects.toThrow(/needs teacher\.base_url and teacher\.model/);
    expect(() => makeStageContext(stage, { teacher: { kind: 'gpt' } })).toThrow(/\/teacher\/kind: must be one of/);
  });

  it('cite_driver opens closed answers with the card line they follow, and only on the demographics template', async () => {
    const personas = await personasArtifact(10, 60, 4);
    const plain = (await synth({}, personas)).jsonl('dataset.jsonl');
    const cited = (await synth({ teacher: { cite_driver: true } }, personas)).jsonl('dataset.jsonl');
    expect(cited.map((r) => r.id)).toEqual(plain.map((r) => r.id));
    let closed = 0;
    for (const [i, r] of cited.entries()) {
      const p = plain[i]!;
      if (r.question_type === 'open') {
        expect(r.reference).toBe(p.reference);
        continue;
      }
      closed += 1;
      expect(r.reference).toMatch(/^(Age|Income|Education|Region): [^.]+\. /);
      expect(r.reference.endsWith(p.reference)).toBe(true);
      expect(r.meta).toMatchObject({ cite_driver: true, answer: p.meta.answer });
    }
    expect(closed).toBeGreaterThan(0);
    const bad = makeStageContext(stage, { teacher: { conditioning: 'attitudes', cite_driver: true } }, { inputs: [personas] });
    await expect(stage.run(bad.ctx)).rejects.toThrow(/cite_driver .* needs teacher kind "template" with conditioning "demographics" \(got kind "template", conditioning "attitudes"\)/);
  });
});

