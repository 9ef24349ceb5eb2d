import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import stage from '../../stages/sample-personas/index.js';
import { makeStageContext, tempDir } from '../helpers/stage-context.js';
import { PAPER_DOMAIN_COUNTS } from '../../src/survey/domains.js';
import { largestRemainder } from '../../src/survey/quotas.js';
import { packageRoot } from '../../src/core/paths.js';
import { sha256, startFakeHub, type FakeHub } from '../model/hub/fake-hub.js';

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
  let hub: FakeHub | undefined;
  const saved = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HOME: process.env.HF_HOME, HF_HUB_CACHE: process.env.HF_HUB_CACHE, HF_TOKEN: process.env.HF_TOKEN, HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE };
  afterEach(async () => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    await hub?.close();
    hub = undefined;
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

  it('downloads the dataset file through src/model/hub: token, huggingface_hub cache, commit provenance, offline, pins', async () => {
    const SHA = 'c'.repeat(40);
    const content = Buffer.from(personaLines);
    const sha = sha256(content);
    hub = await startFakeHub({ 'proj-persona/PersonaHub': { type: 'dataset', sha: SHA, files: { 'persona.jsonl': content, 'README.md': Buffer.from('# personas\n') }, lfs: ['persona.jsonl'], token: 'secret-token' } });
    const home = tempDir('pp-hfhome-');
    process.env.HF_ENDPOINT = hub.endpoint;
    process.env.HF_HOME = home;
    delete process.env.HF_HUB_CACHE;
    delete process.env.HF_HUB_OFFLINE;
    delete process.env.HF_TOKEN;
    await expect(run({ source: 'personahub', count: 8, records: 20 })).rejects.toThrow(/dataset repo "proj-persona\/PersonaHub" at revision "main": HTTP 401 .*set HF_TOKEN/);
    process.env.HF_TOKEN = 'secret-token';
    const before = hub.requests.length;
    const a = await run({ source: 'personahub', count: 8, records: 20, hub: { sha256: sha } });
    expect(hub.requests.slice(before).map((r) => [r.method, r.url, r.auth])).toEqual([
      ['GET', '/api/datasets/proj-persona/PersonaHub/revision/main?blobs=true', 'Bearer secret-token'],
      ['HEAD', `/datasets/proj-persona/PersonaHub/resolve/${SHA}/persona.jsonl`, 'Bearer secret-token'],
      ['GET', `/datasets/proj-persona/PersonaHub/resolve/${SHA}/persona.jsonl`, 'Bearer secret-token'],
      ['GET', `/cdn/${sha}`, undefined], // the LFS redirect: no token to another origin
    ]);
    expect(a.provenance.personas).toMatchObject({ hub: { commit: SHA, sha256: sha, from_cache: false, pinned: false, url: `${hub.endpoint}/datasets/proj-persona/PersonaHub/resolve/${SHA}/persona.jsonl` } });
    expect(a.logs.some((l) => /is a branch, not a commit/.test(l))).toBe(true);
    const repoDir = join(home, 'hub', 'datasets--proj-persona--PersonaHub');
    expect(readFileSync(join(repoDir, 'refs', 'main'), 'utf8')).toBe(SHA);
    expect(readdirSync(join(repoDir, 'snapshots', SHA))).toEqual(['persona.jsonl']); // only the file asked for
    expect(readdirSync(join(repoDir, 'blobs'))).toEqual([sha]); // no partial files left behind

    process.env.HF_HUB_OFFLINE = '1';
    const count = hub.requests.length;
    const b = await run({ source: 'personahub', count: 8, records: 20 });
    expect(hub.requests).toHaveLength(count); // served from the cache
    expect(b.read('personas.jsonl')).toBe(a.read('personas.jsonl'));
    expect(b.provenance.personas).toMatchObject({ hub: { commit: SHA, from_cache: true } });
    await expect(run({ source: 'personahub', count: 8, records: 20, hub: { revision: 'v9' } })).rejects.toThrow(/HF_HUB_OFFLINE is set and proj-persona\/PersonaHub@v9 is not in the cache/);
    await expect(run({ source: 'personahub', count: 8, records: 20, hub: { file: 'other.jsonl' } })).rejects.toThrow(/HF_HUB_OFFLINE is set and proj-persona\/PersonaHub@main\/other\.jsonl is not in the cache \(cached: persona\.jsonl\)/);
    delete process.env.HF_HUB_OFFLINE;

    await expect(run({ source: 'personahub', count: 8, records: 20, hub: { revision: 'v2' } })).rejects.toThrow(/revision not found/);
    await expect(run({ source: 'personahub', count: 8, records: 20, hub: { file: 'personas.jsonl' } })).rejects.toThrow(/PersonaHub@main\/personas\.jsonl: no such file at commit c{40} \(repo has: README\.md, persona\.jsonl\)/);
    await expect(run({ source: 'personahub', count: 8, records: 20, hub: { sha256: 'B'.repeat(64) } })).rejects.toThrow(/sha256 [0-9a-f]{64} does not match the pinned sha256 b{64}/);

    const pinnedCount = hub.requests.length;
    const pinned = await run({ source: 'personahub', count: 8, records: 20, hub: { revision: SHA, sha256: sha } });
    expect(hub.requests).toHaveLength(pinnedCount); // a cached commit needs no network, as in huggingface_hub
    expect(pinned.provenance.personas).toMatchObject({ hub: { commit: SHA, pinned: true, from_cache: true } });
    expect(pinned.logs.some((l) => /is a branch/.test(l))).toBe(false);
    expect(pinned.read('personas.jsonl')).toBe(a.read('personas.jsonl'));

    const dir = tempDir();
    const own = await run({ source: 'personahub', count: 8, records: 20, hub: { revision: SHA, cache_dir: 'hf-cache' } }, { pipelineDir: dir });
    expect(own.provenance.personas).toMatchObject({ hub: { commit: SHA, pinned: true, from_cache: false } });
    expect(existsSync(join(dir, 'hf-cache', 'datasets--proj-persona--PersonaHub', 'snapshots', SHA, 'persona.jsonl'))).toBe(true);

    await hub.close();
    hub = undefined;
    await expect(run({ source: 'personahub', count: 8, records: 20, hub: { revision: 'v4' } })).rejects.toThrow(/cannot reach http:\/\/127\.0\.0\.1/);
  });
});
