import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, UserError } from '../../src/core/errors.js';
import fetchModel from '../../stages/fetch-model/index.js';
import { initLlamaWeights } from '../../src/model/init/index.js';
import { listFiles, loadModelDir, writeModelDir } from '../../src/model/model-dir.js';
import { presetConfig } from '../../src/model/presets.js';
import { byteLevelTokenizerFiles } from '../../src/model/tokenizer/index.js';
import { makeStageContext, tempDir } from '../helpers/stage-context.js';
import { sha256, startFakeHub, type FakeHub } from '../model/hub/fake-hub.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const cfg = { ...presetConfig('tiny'), hiddenSize: 32, intermediateSize: 48, headDim: 8, numHiddenLayers: 1 };

describe('fetch-model stage', () => {
  let hub: FakeHub;
  let repoFiles: Record<string, Buffer>;

  beforeAll(async () => {
    const src = tempDir();
    writeModelDir(src, cfg, initLlamaWeights(cfg, 5), byteLevelTokenizerFiles({}));
    repoFiles = Object.fromEntries(listFiles(src).map((f) => [f, readFileSync(join(src, f))]));
    repoFiles['README.md'] = Buffer.from('# a tiny model\n');
    hub = await startFakeHub({
      'org/tiny-llama': { sha: SHA, files: repoFiles, lfs: ['model.safetensors'] },
      'org/not-a-model': { sha: SHA, files: { 'config.json': Buffer.from('{"model_type":"gpt2"}') } },
      'org/gated': { sha: SHA, files: repoFiles, token: 'hf_ok' },
    });
  });
  afterAll(() => hub.close());
  afterEach(() => vi.unstubAllEnvs());

  const useHub = (extra: Record<string, string> = {}) => {
    vi.stubEnv('HF_ENDPOINT', hub.endpoint);
    vi.stubEnv('HF_HOME', tempDir());
    vi.stubEnv('HF_TOKEN', '');
    vi.stubEnv('HF_HUB_OFFLINE', '');
    for (const [k, v] of Object.entries(extra)) vi.stubEnv(k, v);
  };

  it('publishes the pinned snapshot as a loadable model dir and records every sha256', async () => {
    useHub();
    const run = makeStageContext(fetchModel, { repo_id: 'org/tiny-llama' });
    await fetchModel.run(run.ctx);
    expect(listFiles(run.outDir)).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(loadModelDir(run.outDir).config).toEqual(cfg);
    const prov = run.provenance.hub as { commit: string; files: Record<string, { sha256: string; size: number }> };
    expect(prov.commit).toBe(SHA);
    for (const [path, { sha256: digest, size }] of Object.entries(prov.files)) {
      expect(digest, path).toBe(sha256(repoFiles[path]!));
      expect(size, path).toBe(repoFiles[path]!.length);
    }
    expect(run.logs.some((l) => l.startsWith('warn:') && l.includes(`pin revision: ${SHA}`))).toBe(true);
    expect(run.progress.at(-1)![0]).toBe(run.progress.at(-1)![1]);
  });

  it('pinned, then offline from the cache with the same result', async () => {
    useHub();
    const online = makeStageContext(fetchModel, { repo_id: 'org/tiny-llama', revision: SHA });
    await fetchModel.run(online.ctx);
    expect(online.logs.some((l) => l.startsWith('warn:'))).toBe(false);
    vi.stubEnv('HF_HUB_OFFLINE', '1');
    vi.stubEnv('HF_ENDPOINT', 'http://127.0.0.1:9');
    const offline = makeStageContext(fetchModel, { repo_id: 'org/tiny-llama', revision: SHA });
    await fetchModel.run(offline.ctx);
    expect(offline.provenance.hub).toMatchObject({ commit: SHA, offline: true, bytesFetched: 0, files: (online.provenance.hub as { files: unknown }).files });
  });

  it('sends HF_TOKEN to gated repos and explains a 401 without it', async () => {
    useHub();
    await expect(fetchModel.run(makeStageContext(fetchModel, { repo_id: 'org/gated' }).ctx)).rejects.toThrow(UserError);
    useHub({ HF_TOKEN: 'hf_ok' });
    const run = makeStageContext(fetchModel, { repo_id: 'org/gated' });
    await fetchModel.run(run.ctx);
    expect(loadModelDir(run.outDir).config.hiddenSize).toBe(32);
  });

  it('names the repo when it is missing or not a usable model dir', async () => {
    useHub();
    await expect(fetchModel.run(makeStageContext(fetchModel, { repo_id: 'org/nothing' }).ctx)).rejects.toThrow(/org\/nothing.*repository not found/);
    const bad = makeStageContext(fetchModel, { repo_id: 'org/not-a-model' });
    const err = await fetchModel.run(bad.ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(/org\/not-a-model@0123.*not a usable model dir.*org\/not-a-model\/config\.json: model_type "gpt2" is not supported/);
    const unchecked = makeStageContext(fetchModel, { repo_id: 'org/not-a-model', check_model: false });
    await fetchModel.run(unchecked.ctx);
    expect(listFiles(unchecked.outDir)).toEqual(['config.json']);
    expect(() => makeStageContext(fetchModel, { repo_id: 'no-slash' })).toThrow(/repo_id/);
  });
});
