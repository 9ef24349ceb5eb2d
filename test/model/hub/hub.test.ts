import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, readFileSync, readlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, UserError } from '../../../src/core/errors.js';
import { filterRepoFiles, hubFileDownload, hubSettings, snapshotDownload, type HubSettings } from '../../../src/model/hub/index.js';
import { tempDir } from '../../helpers/stage-context.js';
import { gitSha1, sha256, startFakeHub, type FakeHub } from './fake-hub.js';

const SHA = 'a'.repeat(39) + '1';
const PRIVATE_SHA = 'b'.repeat(40);
const weights = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 251));
const otherWeights = Buffer.from(weights).reverse();
const files = {
  'config.json': Buffer.from('{"model_type":"llama"}\n'),
  'model.safetensors': weights,
  'tokenizer.json': Buffer.from('{"version":"1.0"}\n'),
  'onnx/model.onnx': Buffer.alloc(3000, 7),
  'README.md': Buffer.from('# tiny\n'),
};

describe('hub snapshot download against a local hub', () => {
  let hub: FakeHub;
  const settings = (extra: Partial<HubSettings> = {}): HubSettings => ({ endpoint: hub.endpoint, cacheDir: join(tempDir(), 'hub'), offline: false, ...extra });

  beforeAll(async () => {
    hub = await startFakeHub({
      'org/tiny': { sha: SHA, files, lfs: ['model.safetensors', 'onnx/model.onnx'] },
      'org/private': { sha: PRIVATE_SHA, files: { 'config.json': files['config.json'], 'model.safetensors': weights }, lfs: ['model.safetensors'], token: 'hf_secret' },
      'org/gated': { sha: PRIVATE_SHA, files: { 'config.json': files['config.json'] }, token: 'hf_granted', gated: true },
      'org/corrupt': { sha: SHA, files: { 'model.safetensors': otherWeights }, lfs: ['model.safetensors'], corrupt: { 'model.safetensors': Buffer.alloc(weights.length, 1) } },
    });
  });
  afterAll(() => hub.close());

  it('pins the revision, fills the huggingface_hub cache layout and reports sha256s', async () => {
    const s = settings();
    const snap = await snapshotDownload({ repo: 'org/tiny', settings: s, allowPatterns: ['*.json', '*.safetensors'] });
    expect(snap.sha).toBe(SHA);
    expect(snap.files.map((f) => f.path)).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    const repoDir = join(s.cacheDir, 'models--org--tiny');
    expect(readFileSync(join(repoDir, 'refs', 'main'), 'utf8')).toBe(SHA);
    for (const f of snap.files) {
      const content = files[f.path as keyof typeof files];
      expect(f.sha256).toBe(sha256(content));
      expect(readFileSync(f.localPath).equals(content)).toBe(true);
      expect(lstatSync(f.localPath).isSymbolicLink()).toBe(true);
    }
    expect(readlinkSync(join(repoDir, 'snapshots', SHA, 'model.safetensors'))).toBe(`../../blobs/${sha256(weights)}`);
    expect(existsSync(join(repoDir, 'blobs', gitSha1(files['config.json'])))).toBe(true);
    expect(snap.bytesFetched).toBe(weights.length + files['config.json'].length + files['tokenizer.json'].length);

    const before = hub.requests.length;
    const again = await snapshotDownload({ repo: 'org/tiny', settings: s, allowPatterns: ['*.json', '*.safetensors'] });
    expect(again.files.every((f) => f.fromCache)).toBe(true);
    expect(again.bytesFetched).toBe(0);
    expect(hub.requests.slice(before).map((r) => r.url)).toEqual([`/api/models/org/tiny/revision/main?blobs=true`]);
  });

  it('resumes an interrupted transfer with a Range request instead of starting over', async () => {
    const s = settings();
    hub.cutNext.add('model.safetensors');
    hub.bytesSent.delete('model.safetensors');
    const snap = await snapshotDownload({ repo: 'org/tiny', revision: SHA, settings: s, allowPatterns: ['model.safetensors'] });
    expect(snap.files[0]!.sha256).toBe(sha256(weights));
    expect(hub.bytesSent.get('model.safetensors')).toBe(weights.length); // the prefix was not sent twice
    const ranged = hub.requests.filter((r) => r.url.startsWith('/cdn/') && r.range);
    expect(ranged.at(-1)!.range).toBe(`bytes=${Math.floor(weights.length / 2)}-`);
    expect(existsSync(join(s.cacheDir, 'models--org--tiny', 'refs', SHA))).toBe(false);
  });

  it('resumes a partial file left by an earlier run', async () => {
    const s = settings();
    const blobs = join(s.cacheDir, 'models--org--tiny', 'blobs');
    mkdirSync(blobs, { recursive: true });
    writeFileSync(join(blobs, `${sha256(weights)}.incomplete`), weights.subarray(0, 30_000));
    hub.bytesSent.delete('model.safetensors');
    const snap = await snapshotDownload({ repo: 'org/tiny', settings: s, allowPatterns: ['model.safetensors'] });
    expect(snap.files[0]!.sha256).toBe(sha256(weights));
    expect(hub.bytesSent.get('model.safetensors')).toBe(weights.length - 30_000);
    expect(existsSync(join(blobs, `${sha256(weights)}.incomplete`))).toBe(false);
  });

  it('refuses content whose sha256 differs from the LFS sha256, keeping nothing', async () => {
    const s = settings();
    const err = await snapshotDownload({ repo: 'org/corrupt', settings: s }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(/model\.safetensors" has sha256 .* the hub announced/);
    expect(existsSync(join(s.cacheDir, 'models--org--corrupt', 'blobs', sha256(otherWeights)))).toBe(false);
    expect(existsSync(join(s.cacheDir, 'models--org--corrupt', 'blobs', `${sha256(otherWeights)}.incomplete`))).toBe(false);
  });

  it('asks for HF_TOKEN on a 401, sends it to the hub as a bearer token and never to the CDN', async () => {
    const err = await snapshotDownload({ repo: 'org/private', settings: settings() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/org\/private.*HTTP 401.*set HF_TOKEN/);
    const snap = await snapshotDownload({ repo: 'org/private', settings: settings({ token: 'hf_secret' }) });
    expect(snap.sha).toBe(PRIVATE_SHA);
    expect(snap.files.map((f) => f.sha256)).toEqual([sha256(files['config.json']), sha256(weights)]);
    const resolves = hub.requests.filter((r) => r.url.startsWith('/org/private/resolve/'));
    expect(resolves.length).toBeGreaterThan(0);
    expect(resolves.every((r) => r.auth === 'Bearer hf_secret')).toBe(true);
    expect(hub.requests.filter((r) => r.url.startsWith('/cdn/')).every((r) => r.auth === undefined)).toBe(true);
  });

  it('explains a gated repo', async () => {
    await expect(snapshotDownload({ repo: 'org/gated', settings: settings() })).rejects.toThrow(/model repo "org\/gated" at revision "main": the model is gated — accept its terms/);
    expect((await snapshotDownload({ repo: 'org/gated', settings: settings({ token: 'hf_granted' }) })).files).toHaveLength(1);
  });

  it('names a missing repo, revision and an empty selection clearly', async () => {
    await expect(snapshotDownload({ repo: 'org/absent', settings: settings() })).rejects.toThrow(/model repo "org\/absent" at revision "main": repository not found/);
    await expect(snapshotDownload({ repo: 'org/tiny', revision: 'v9', settings: settings() })).rejects.toThrow(/revision not found/);
    await expect(snapshotDownload({ repo: 'org/tiny', settings: settings(), allowPatterns: ['*.bin'] })).rejects.toThrow(/no file matches allow_patterns \["\*\.bin"\]/);
    await expect(snapshotDownload({ repo: '../etc', settings: settings() })).rejects.toThrow(/not a hub repo id/);
  });

  it('says so when the hub cannot be reached', async () => {
    await expect(snapshotDownload({ repo: 'org/tiny', settings: settings({ endpoint: 'http://127.0.0.1:9' }) })).rejects.toThrow(/cannot reach http:\/\/127\.0\.0\.1:9.*HF_HUB_OFFLINE/);
  });

  it('retries 429 and 5xx with growing delays, honouring Retry-After, then names the last error', async () => {
    const sleeps: number[] = [];
    const retry = { attempts: 4, baseDelayMs: 100, maxDelayMs: 5000, sleep: async (ms: number) => void sleeps.push(ms) };
    hub.failures.push({ match: /^\/api\/models\/org\/tiny\/revision\//, status: 503, times: 2 });
    hub.failures.push({ match: /^\/cdn\//, status: 429, times: 1, retryAfter: '3' });
    const snap = await snapshotDownload({ repo: 'org/tiny', settings: settings({ retry }), allowPatterns: ['model.safetensors'] });
    expect(snap.files[0]!.sha256).toBe(sha256(weights));
    expect(sleeps).toEqual([100, 200, 3000]);

    sleeps.length = 0;
    hub.failures.push({ match: /^\/api\/models\/org\/tiny\/revision\//, status: 500, times: 9 });
    const err = await snapshotDownload({ repo: 'org/tiny', settings: settings({ retry }) }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/HTTP 500 from .*planted 500/);
    expect(sleeps).toEqual([100, 200, 400]);
    hub.failures.length = 0;
    // A 404 is final at once.
    sleeps.length = 0;
    await expect(snapshotDownload({ repo: 'org/absent', settings: settings({ retry }) })).rejects.toThrow(/repository not found/);
    expect(sleeps).toEqual([]);
  });

  it('downloads the files of a snapshot in parallel', async () => {
    hub.gate = 2;
    try {
      const snap = await snapshotDownload({ repo: 'org/tiny', settings: settings(), allowPatterns: ['model.safetensors', 'onnx/*'] });
      expect(snap.files.map((f) => f.path)).toEqual(['model.safetensors', 'onnx/model.onnx']);
      expect(hub.maxInFlight).toBeGreaterThanOrEqual(2);
    } finally {
      hub.gate = undefined;
    }
  });

  it('works offline from the cache (HF_HUB_OFFLINE) and says what is missing', async () => {
    const s = settings();
    await snapshotDownload({ repo: 'org/tiny', settings: s, allowPatterns: ['*.json'] });
    const before = hub.requests.length;
    const snap = await snapshotDownload({ repo: 'org/tiny', settings: { ...s, offline: true } });
    expect(hub.requests.length).toBe(before);
    expect(snap.sha).toBe(SHA);
    expect(snap.files.map((f) => [f.path, f.sha256])).toEqual([['config.json', sha256(files['config.json'])], ['tokenizer.json', sha256(files['tokenizer.json'])]]);
    await expect(snapshotDownload({ repo: 'org/other', settings: { ...s, offline: true } })).rejects.toThrow(/HF_HUB_OFFLINE is set and org\/other@main is not in the cache/);
  });
});

describe('hub single-file download (hf_hub_download)', () => {
  let hub: FakeHub;
  const settings = (extra: Partial<HubSettings> = {}): HubSettings => ({ endpoint: hub.endpoint, cacheDir: join(tempDir(), 'hub'), offline: false, ...extra });
  beforeAll(async () => {
    hub = await startFakeHub({
      'org/data': { type: 'dataset', sha: SHA, files: { 'train.jsonl': Buffer.from('{"a":1}\n'), 'big/part-0.jsonl': weights }, lfs: ['big/part-0.jsonl'] },
    });
  });
  afterAll(() => hub.close());

  it('fetches one file of a dataset repo into datasets--org--name, pinned to its commit', async () => {
    const s = settings();
    const got = await hubFileDownload({ repo: 'org/data', repoType: 'dataset', path: 'big/part-0.jsonl', settings: s });
    expect(got).toMatchObject({ sha: SHA, pinned: false, fromCache: false, sha256: sha256(weights), url: `${hub.endpoint}/datasets/org/data/resolve/${SHA}/big/part-0.jsonl` });
    expect(got.localPath).toBe(join(s.cacheDir, 'datasets--org--data', 'snapshots', SHA, 'big', 'part-0.jsonl'));
    expect(existsSync(join(s.cacheDir, 'datasets--org--data', 'snapshots', SHA, 'train.jsonl'))).toBe(false);
    const before = hub.requests.length;
    const again = await hubFileDownload({ repo: 'org/data', repoType: 'dataset', revision: SHA, path: 'big/part-0.jsonl', sha256: sha256(weights), settings: s });
    expect(again).toMatchObject({ fromCache: true, pinned: true, localPath: got.localPath });
    expect(hub.requests.length).toBe(before); // a cached commit is answered without the network
    await expect(hubFileDownload({ repo: 'org/data', repoType: 'dataset', revision: SHA, path: 'big/part-0.jsonl', sha256: '0'.repeat(64), settings: s })).rejects.toThrow(DataError);
  });

  it('keeps model and dataset repos apart and rejects paths outside the repo', async () => {
    await expect(hubFileDownload({ repo: 'org/data', path: 'train.jsonl', settings: settings() })).rejects.toThrow(/model repo "org\/data" at revision "main": repository not found/);
    await expect(hubFileDownload({ repo: 'org/data', repoType: 'dataset', path: '../x', settings: settings() })).rejects.toThrow(/must stay inside the repo/);
    await expect(hubFileDownload({ repo: 'org/data', repoType: 'dataset', path: 'test.jsonl', settings: settings() })).rejects.toThrow(/org\/data@main\/test\.jsonl: no such file at commit/);
  });
});

describe('hub settings and patterns', () => {
  it('reads HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE', () => {
    expect(hubSettings({ HF_HOME: '/h', HF_ENDPOINT: 'http://mirror/', HF_TOKEN: 't' })).toEqual({ endpoint: 'http://mirror', token: 't', cacheDir: '/h/hub', offline: false });
    expect(hubSettings({ HF_HUB_CACHE: '/c', HF_HUB_OFFLINE: '1', XDG_CACHE_HOME: '/x' })).toMatchObject({ endpoint: 'https://huggingface.co', cacheDir: '/c', offline: true, token: undefined });
    expect(hubSettings({ XDG_CACHE_HOME: '/x' }).cacheDir).toBe('/x/huggingface/hub');
  });

  it('filters like huggingface_hub (fnmatch, * crosses folders, trailing / = folder)', () => {
    const all = ['config.json', 'model.safetensors', 'onnx/model.onnx', 'onnx/model_q4.onnx', 'tokenizer.json', 'README.md'];
    expect(filterRepoFiles(all, ['*.json'])).toEqual(['config.json', 'tokenizer.json']);
    expect(filterRepoFiles(all, ['onnx/'])).toEqual(['onnx/model.onnx', 'onnx/model_q4.onnx']);
    expect(filterRepoFiles(all, ['*.onnx'], ['*q4*'])).toEqual(['onnx/model.onnx']);
    expect(filterRepoFiles(all, null, ['*.md', 'onnx/*'])).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    expect(filterRepoFiles(all, ['model.safetensor?', '[cC]onfig.json'])).toEqual(['config.json', 'model.safetensors']);
  });
});
