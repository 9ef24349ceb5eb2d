/**
 * pipelines/models.yaml, the paper's model table, run offline as it is: the repository's file
 * itself, through the real CLI, with only its size params lowered by `-S` (personas, records,
 * max_steps, max_new_tokens) and the artifacts in a temporary runs folder (`--runs-dir`);
 * fetch-model downloads tiny random stand-ins of the seven models (stand-ins.ts) from a local hub
 * (HF_ENDPOINT), and every stage after it — chat templates, int4 quantization, QLoRA, generation,
 * scoring, the report — runs on them for all five architectures.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { trainByteLevelBpe } from '../../src/model/tokenizer/index.js';
import { DATASET_FILE, readDatasetFile, userPrompt } from '../../src/survey/record.js';
import { CliRig } from '../helpers/cli-rig.js';
import { startFakeHub, type FakeHub, type FakeRepo } from '../model/hub/fake-hub.js';
import { STAND_INS, standInRepo } from './stand-ins.js';

const MODELS_YAML = fileURLToPath(new URL('../../pipelines/models.yaml', import.meta.url));
/** The file's size params, lowered; nothing else of it changes. */
const SIZES = ['personas=12', 'records=40', 'max_steps=1', 'max_new_tokens=4'].flatMap((s) => ['-S', s]);

describe('pipelines/models.yaml offline on stand-ins of the seven models', () => {
  const rig = new CliRig();
  const runs = join(rig.dir, 'runs');
  const ids = Object.keys(STAND_INS);
  const keys = new Map<string, string>();
  let hub: FakeHub;
  const SHA = 'fedcba9876543210fedcba9876543210fedcba98';

  /** Runs the file with the sizes lowered; records each stage's key from the JSON events. */
  const run = async (...extra: string[]) => {
    const result = await rig.run(['run', MODELS_YAML, ...SIZES, '--runs-dir', runs, '--json', ...extra]);
    for (const line of result.stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as { type: string; id: string; key?: string };
      if ((e.type === 'stage-done' || e.type === 'stage-cached') && e.key) keys.set(e.id, e.key);
    }
    return result;
  };
  const out = (stage: string): string => {
    const key = keys.get(stage);
    if (!key) throw new Error(`no key recorded for stage ${stage}`);
    return join(runs, 'cache', key.slice(0, 2), key, 'out');
  };

  beforeAll(async () => {
    // The pipeline's own data first (no hub needed): the stand-ins' tokenizers learn their merges from it.
    const data = await run('--stage', 'dataset');
    if (data.code !== 0) throw new Error(data.stderr);
    const texts = readDatasetFile(join(out('dataset'), DATASET_FILE)).flatMap((r) => [userPrompt(r), r.reference]);
    const merges = trainByteLevelBpe(texts, 765);
    const repos: Record<string, FakeRepo> = {};
    ids.forEach((id, i) => (repos[id] = standInRepo(id, SHA, 100 + i, merges)));
    hub = await startFakeHub(repos);
    vi.stubEnv('HF_ENDPOINT', hub.endpoint);
    vi.stubEnv('HF_HOME', join(rig.dir, 'hf-home'));
    vi.stubEnv('HF_TOKEN', '');
    vi.stubEnv('HF_HUB_OFFLINE', '');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await hub?.close();
    rmSync(rig.dir, { recursive: true, force: true });
  });

  it('runs every stage of the file for every model, and the report has a row per model', async () => {
    const result = await run();
    expect(result.stderr, result.stdout.slice(-3000)).toBe('');
    expect(result.code, result.stdout.slice(-3000)).toBe(0);
    for (const step of ['base', 'chatml', 'quantized', 'adapter', 'predictions', 'scores']) {
      expect([...keys.keys()].filter((s) => s.startsWith(`${step}[`)).sort(), step).toEqual(ids.map((id) => `${step}[${id}]`).sort());
    }
    // Each model trained a LoRA adapter on its own architecture's modules and generated its answers.
    const targets = (id: string) => (JSON.parse(readFileSync(join(out(`adapter[${id}]`), 'adapter_config.json'), 'utf8')) as { target_modules: string[] }).target_modules;
    expect(targets('TinyLlama/TinyLlama-1.1B-Chat-v1.0')).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    expect(targets('microsoft/phi-2')).toEqual(['q_proj', 'k_proj', 'v_proj', 'dense', 'fc1', 'fc2']);
    expect(targets('Qwen/Qwen1.5-MoE-A2.7B')).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate', 'gate_proj', 'up_proj', 'down_proj', 'shared_expert_gate']);
    for (const id of ids) {
      const predictions = readFileSync(join(out(`predictions[${id}]`), 'predictions.jsonl'), 'utf8').trim().split('\n');
      expect(predictions.length, id).toBeGreaterThan(0);
      const config = JSON.parse(readFileSync(join(out(`quantized[${id}]`), 'config.json'), 'utf8')) as { model_type: string; quantization_config: { bits: number; modules: string } };
      expect(config.model_type).toBe(STAND_INS[id]!.model_type);
      expect(config.quantization_config.bits).toBe(4);
      expect(config.quantization_config.modules).toBe(config.model_type === 'qwen2_moe' ? 'all decoder linear layers but gate, shared_expert_gate (float32)' : 'all decoder linear layers');
    }
    const report = readFileSync(join(out('report'), 'table2.md'), 'utf8');
    for (const id of ids) expect(report).toContain(id);
    // The repository's file and its folder are as they were: -S writes no lock file.
    expect(existsSync(MODELS_YAML.replace(/\.yaml$/, '.lock.yaml'))).toBe(false);
  });
});
