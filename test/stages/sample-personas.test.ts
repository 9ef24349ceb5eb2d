import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import stage from '../../stages/sample-personas/index.js';
import { makeStageContext, tempDir } from '../helpers/stage-context.js';
import { PAPER_DOMAIN_COUNTS } from '../../src/survey/domains.js';
import { largestRemainder } from '../../src/survey/quotas.js';
import { packageRoot } from '../../src/core/paths.js';

async function run(params: Record<string, unknown>, options: { seed?: number; pipelineDir?: string } = {}) {
  const r = makeStageContext(stage, params, options);
  await stage.run(r.ctx);
  const read = (f: string) => readFileSync(join(r.outDir, f), 'utf8');
  const jsonl = (f: string) => read(f).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { ...r, read, jsonl };
}
const tally = (xs: unknown[]) => xs.reduce<Record<string, number>>((o, x) => ((o[String(x)] = (o[String(x)] ?? 0) + 1), o), {});

describe('sample-personas (synthetic)', () => {
  it('meets the scaled paper quotas exactly for 40 personas and 100 records', async () => {
    const r = await run({ count: 40, records: 100 });
    const a = r.jsonl('assignments.jsonl');
    expect(a).toHaveLength(100);
    const expected = largestRemainder(Object.values(PAPER_DOMAIN_COUNTS), 100);
    expect(tally(a.map((x) => x.domain))).toEqual(Object.fromEntries(Object.keys(PAPER_DOMAIN_COUNTS).map((d, i) => [d, expected[i]])));
    expect(tally(a.map((x) => x.question_type))).toEqual({ open: 43, likert: 32, yesno: 18, agreement: 7 });
    const personas = r.jsonl('personas.jsonl');
    expect(personas).toHaveLength(40);
    const domainsOf = new Map<string, Set<unknown>>();
    for (const x of a) (domainsOf.get(x.persona_id as string) ?? domainsOf.set(x.persona_id as string, new Set()).get(x.persona_id as string)!).add(x.domain);
    expect([...domainsOf.values()].filter((s) => s.size === 1)).toHaveLength(29); // round(0.714 × 40)
    expect(r.jsonl('questions.jsonl').length).toBeGreaterThanOrEqual(82);
    expect(JSON.parse(r.read('quotas.json')).records).toBe(100);
  });

  it('defaults to the paper: 433 personas, 3,568 records, its domain counts', async () => {
    const r = await run({});
    const a = r.jsonl('assignments.jsonl');
    expect(a).toHaveLength(3568);
    expect(tally(a.map((x) => x.domain))).toEqual(PAPER_DOMAIN_COUNTS);
    expect(r.jsonl('personas.jsonl')).toHaveLength(433);
  });

  it('is byte-identical for the same seed and differs for another', async () => {
    const files = ['personas.jsonl', 'assignments.jsonl', 'questions.jsonl', 'quotas.json'];
    const a = await run({ count: 20, records: 60 }, { seed: 4 });
    const b = await run({ count: 20, records: 60 }, { seed: 4 });
    const c = await run({ count: 20, records: 60 }, { seed: 5 });
    for (const f of files) expect(b.read(f)).toBe(a.read(f));
    expect(c.read('personas.jsonl')).not.toBe(a.read('personas.jsonl'));
    expect(c.read('assignments.jsonl')).not.toBe(a.read('assignments.jsonl'));
    const d = await run({ count: 20, records: 60, seed: 4 }, { seed: 99 });
    expect(d.read('personas.jsonl')).toBe(a.read('personas.jsonl')); // params.seed overrides the stage seed
  });

  it('rakes to census targets and records convergence', async () => {
    const r = await run({ count: 50, records: 120, targets: 'census', pool_factor: 10 });
    const q = JSON.parse(r.read('quotas.json'));
    expect(q.raking.converged).toBe(true);
    expect(q.raking.maxError).toBeLessThan(1e-6);
    expect(r.provenance.personas).toMatchObject({ source: 'synthetic' });
  });

  it('honours quota overrides and declares the bank as a file dependency', async () => {
    const r = await run({ count: 10, records: 30, quotas: { domains: { finance: 1, technology: 2 }, types: { open: 1, likert: 2, yesno: 0, agreement: 0 }, single_domain_share: 0.5 } });
    const a = r.jsonl('assignments.jsonl');
    expect(tally(a.map((x) => x.domain))).toEqual({ finance: 10, technology: 20 });
    expect(tally(a.map((x) => x.question_type))).toEqual({ open: 10, likert: 20 });
    expect(stage.fileDeps!(r.ctx.params, '/p')).toEqual([join(packageRoot(), 'question-bank')]);
    expect(stage.fileDeps!({ ...r.ctx.params, bank: 'bank', source: 'file', path: 'p.csv' }, '/p')).toEqual(['/p/bank', '/p/p.csv']);
  });

  it('rejects a malformed bank with file and item id', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'bank'));
    writeFileSync(join(dir, 'bank', 'x.json'), JSON.stringify({ domain: 'x', items: [{ id: 'x1', domain: 'x', type: 'essay', text: 'Why?', construct: 'c', instrument: 'i' }] }));
    await expect(run({ count: 2, records: 4, bank: 'bank' }, { pipelineDir: dir })).rejects.toThrow(/x\.json item "x1": \/items\/0\/type must be one of/);
  });

  it('rejects impossible sizes with a clear message', async () => {
    await expect(run({ count: 10, records: 5 })).rejects.toThrow(/at least the number of personas/);
    await expect(() => makeStageContext(stage, { count: 0 })).toThrow(/\/count/);
  });
});

describe('sample-personas (file)', () => {
  it('reads JSONL with text and fields, and CSV', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.jsonl'), [
      JSON.stringify({ id: 'a', persona: 'A software developer who loves hiking.' }),
      '',
      JSON.stringify({ id: 'b', age: 51, gender: 'female', occupation: 'farmer', attitudes: { environmental_concern: 0.9 } }),
      JSON.stringify({ id: 'c', description: 'A retired teacher.', region: 'West', values: ['family', 'faith'] }),
    ].join('\n'));
    const r = await run({ source: 'file', path: 'p.jsonl', count: 3, records: 9 }, { pipelineDir: dir });
    const cards = r.jsonl('personas.jsonl');
    expect(cards.map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(cards[0]!.occupation).toBe('software engineer');
    expect(cards[1]).toMatchObject({ age: 51, gender: 'female', occupation: 'farmer', source: 'file' });
    expect((cards[1]!.attitudes as Record<string, number>).environmental_concern).toBe(0.9);
    expect(cards[2]).toMatchObject({ region: 'West', values: ['family', 'faith'], occupation: 'retired', description: 'A retired teacher.' });
    writeFileSync(join(dir, 'p.csv'), 'id,persona,age\nx,"A nurse, on nights",34\ny,"A ""quoted"" chef",\n');
    const csv = await run({ source: 'file', path: 'p.csv', count: 2, records: 4 }, { pipelineDir: dir });
    const c2 = csv.jsonl('personas.jsonl');
    expect(c2[0]).toMatchObject({ id: 'x', age: 34, description: 'A nurse, on nights', occupation: 'registered nurse' });
    expect(c2[1]!.description).toBe('A "quoted" chef');
  });

  it('lists every broken line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.jsonl'), ['{"persona": "ok"}', '{"persona": "broken', '{"persona": "ok too"}', '[1,2]', '{"age": "old"}'].join('\n'));
    await expect(run({ source: 'file', path: 'p.jsonl', count: 2, records: 4 }, { pipelineDir: dir })).rejects.toThrow(/2 broken line\(s\): line 2: .*; line 4: not a JSON object/);
    writeFileSync(join(dir, 'q.jsonl'), ['{"persona": "ok"}', '{"age": "old"}', '{"id": "z"}', '{"persona": "x", "openness": 3}'].join('\n'));
    await expect(run({ source: 'file', path: 'q.jsonl', count: 2, records: 4 }, { pipelineDir: dir })).rejects.toThrow(
      /3 bad persona row\(s\): line 2: age "old" is not an integer.*; line 3: no persona text.*; line 4: openness "3" is not a number in \[0, 1\]/,
    );
    writeFileSync(join(dir, 'r.csv'), 'id,persona\na,"one"\nb,"two",extra\nc,"unterminated\n');
    await expect(run({ source: 'file', path: 'r.csv', count: 1, records: 2 }, { pipelineDir: dir })).rejects.toThrow(/line 3: 3 fields, header has 2/);
    await expect(run({ source: 'file', count: 1, records: 2 }, { pipelineDir: dir })).rejects.toThrow(/needs `path`/);
  });
});

describe('sample-personas (personahub)', () => {
  const personaLines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ persona: `Persona number ${i}: a ${i % 2 ? 'retired farmer' : 'data analyst'} who cares about the climate.` })).join('\n') + '\n';
  let server: Server | undefined;
  const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HOME: process.env.HF_HOME, HF_TOKEN: process.env.HF_TOKEN, HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE };
  afterEach(async () => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    await new Promise<void>((res) => (server ? server.close(() => res()) : res()));
    server = undefined;
  });

  it('samples from a local JSONL file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'hub.jsonl'), personaLines);
    const r = await run({ source: 'personahub', path: 'hub.jsonl', count: 10, records: 30 }, { pipelineDir: dir });
    const cards = r.jsonl('personas.jsonl');
    expect(cards).toHaveLength(10);
    expect(new Set(cards.map((c) => c.id)).size).toBe(10);
    for (const c of cards) expect(c.description).toMatch(/^Persona number \d+/);
    writeFileSync(join(dir, 'bad.jsonl'), '{"persona": "a"}\n{"text": "b"}\n');
    await expect(run({ source: 'personahub', path: 'bad.jsonl', count: 1, records: 2 }, { pipelineDir: dir })).rejects.toThrow(/1 line\(s\) without a "persona" string: lines 2/);
  });

  it('downloads from the hub endpoint once, with token, cache and pinned digest', async () => {
    const requests: Array<{ url: string; auth: string | undefined }> = [];
    server = createServer((req, res) => {
      requests.push({ url: req.url!, auth: req.headers.authorization });
      const m = /^\/datasets\/proj-persona\/PersonaHub\/resolve\/(main|v3|c{40})\/persona\.jsonl$/.exec(req.url!);
      if (m) {
        res.writeHead(200, { 'content-type': 'application/jsonl', 'x-repo-commit': 'a'.repeat(40) });
        res.end(personaLines);
      } else {
        res.writeHead(404);
        res.end('not found');
      }
    });
    await new Promise<void>((res) => server!.listen(0, '127.0.0.1', () => res()));
    const port = (server.address() as { port: number }).port;
    const home = tempDir('pp-hfhome-');
    process.env.HF_ENDPOINT = `http://127.0.0.1:${port}`;
    process.env.HF_HOME = home;
    process.env.HF_TOKEN = 'secret-token';
    const sha = createHash('sha256').update(personaLines).digest('hex');
    const a = await run({ source: 'personahub', count: 8, records: 20, hub: { sha256: sha } });
    expect(requests).toEqual([{ url: '/datasets/proj-persona/PersonaHub/resolve/main/persona.jsonl', auth: 'Bearer secret-token' }]);
    expect(a.provenance.personas).toMatchObject({ hub: { commit: 'a'.repeat(40), sha256: sha, from_cache: false, pinned: false } });
    expect(a.logs.some((l) => /is a branch, not a commit/.test(l))).toBe(true);
    const cached = readdirSync(join(home, 'polypersona', 'datasets--proj-persona--PersonaHub', 'main'));
    expect(cached).toEqual(['persona.jsonl']); // no temp files left behind
    process.env.HF_HUB_OFFLINE = '1';
    const b = await run({ source: 'personahub', count: 8, records: 20 });
    expect(requests).toHaveLength(1); // served from the cache
    await expect(run({ source: 'personahub', count: 8, records: 20, hub: { revision: 'v9' } })).rejects.toThrow(/HF_HUB_OFFLINE is set and proj-persona\/PersonaHub@v9\/persona\.jsonl is not in the cache/);
    delete process.env.HF_HUB_OFFLINE;
    expect(b.read('personas.jsonl')).toBe(a.read('personas.jsonl'));
    await expect(run({ source: 'personahub', count: 8, records: 20, hub: { revision: 'v2' } })).rejects.toThrow(/HTTP 404 \(check repo, revision and file\)/);
    await expect(run({ source: 'personahub', count: 8, records: 20, hub: { revision: 'v3', sha256: 'b'.repeat(64) } })).rejects.toThrow(/sha256 [0-9a-f]{64} does not match the pinned sha256 b{64}/);
    expect(existsSync(join(home, 'polypersona', 'datasets--proj-persona--PersonaHub', 'v3'))).toBe(true);
    expect(readdirSync(join(home, 'polypersona', 'datasets--proj-persona--PersonaHub', 'v3'))).toEqual([]); // nothing half-written
    const pinned = await run({ source: 'personahub', count: 8, records: 20, hub: { revision: 'c'.repeat(40), sha256: sha } });
    expect(pinned.provenance.personas).toMatchObject({ hub: { pinned: true, from_cache: false } });
    expect(pinned.logs.some((l) => /is a branch/.test(l))).toBe(false);
    server.close();
    server = undefined;
    await expect(run({ source: 'personahub', count: 8, records: 20, hub: { revision: 'v4' } })).rejects.toThrow(/cannot reach http:\/\/127\.0\.0\.1/);
  });
});
