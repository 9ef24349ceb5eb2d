/**
 * pipelines/models.yaml, the paper's model table, run offline as it is: the file itself, with
 * only its size params lowered (personas, records, max_steps, max_new_tokens), through the real
 * CLI; fetch-model downloads tiny random stand-ins of the seven models (stand-ins.ts) from a
 * local hub (HF_ENDPOINT), and every stage after it — chat templates, int4 quantization, QLoRA,
 * generation, scoring, the report — runs on them for all five architectures.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { CliRig } from '../helpers/cli-rig.js';
import { startFakeHub, type FakeHub, type FakeRepo } from '../model/hub/fake-hub.js';
import { trainByteLevelBpe } from '../../src/model/tokenizer/index.js';
import { DATASET_FILE, readDatasetFile, userPrompt } from '../../src/survey/record.js';
import { STAND_INS, standInRepo } from './stand-ins.js';

const MODELS_YAML = fileURLToPath(new URL('../../pipelines/models.yaml', import.meta.url));

/** models.yaml with its size params set (each must be one `  name: value` line of the file's params). */
export function sizedModelsPipeline(sizes: Record<string, number>): string {
  let text = readFileSync(MODELS_YAML, 'utf8');
  for (const [name, value] of Object.entries(sizes)) {
    const line = new RegExp(`^  ${name}: [^\\n]*$`, 'gm');
    const hits = text.match(line)?.length ?? 0;
    if (hits !== 1) throw new Error(`pipelines/models.yaml: expected one params line "  ${name}: …", found ${hits}`);
    text = text.replace(line, `  ${name}: ${value}`);
  }
  return text;
}

describe('pipelines/models.yaml offline on stand-ins of the seven models', () => {
  const rig = new CliRig();
  const hubHome = join(rig.dir, 'hf-home');
  const ids = Object.keys(STAND_INS);
  let hub: FakeHub;
  const SHA = 'fedcba9876543210fedcba9876543210fedcba98';

  const stageOut = (stage: string): string => {
    const lock = parse(rig.read('pipelines/models.lock.yaml')) as { stages: Record<string, { key: string }> };
    const key = lock.stages[stage]!.key;
    return join(rig.dir, 'runs', 'cache', key.slice(0, 2), key, 'out');
  };

  beforeAll(async () => {
    rig.write('pipelines/models.yaml', sizedModelsPipeline({ personas: 12, records: 40, max_steps: 1, max_new_tokens: 4 }));
    // The pipeline's own data first (no hub needed): the stand-ins' tokenizers learn their merges from it.
    const data = await rig.run(['run', 'pipelines/models.yaml', '--stage', 'dataset']);
    if (data.code !== 0) throw new Error(data.stderr);
    const texts = readDatasetFile(join(stageOut('dataset'), DATASET_FILE)).flatMap((r) => [userPrompt(r), r.reference]);
    const merges = trainByteLevelBpe(texts, 765);
    const repos: Record<string, FakeRepo> = {};
    ids.forEach((id, i) => (repos[id] = standInRepo(id, SHA, 100 + i, merges)));
    hub = await startFakeHub(repos);
    vi.stubEnv('HF_ENDPOINT', hub.endpoint);
    vi.stubEnv('HF_HOME', hubHome);
    vi.stubEnv('HF_TOKEN', '');
    vi.stubEnv('HF_HUB_OFFLINE', '');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await hub?.close();
    rmSync(rig.dir, { recursive: true, force: true });
  });

  it('runs every stage of the file for every model, and the report has a row per model', async () => {
    const result = await rig.run(['run', 'pipelines/models.yaml', '--json']);
    expect(result.stderr, result.stdout.slice(-3000)).toBe('');
    expect(result.code, result.stdout.slice(-3000)).toBe(0);
    const lock = parse(rig.read('pipelines/models.lock.yaml')) as { stages: Record<string, { key: string }> };
    const stageIds = Object.keys(lock.stages);
    for (const step of ['base', 'chatml', 'quantized', 'adapter', 'predictions', 'scores']) {
      expect(stageIds.filter((s) => s.startsWith(`${step}[`)).sort(), step).toEqual(ids.map((id) => `${step}[${id}]`).sort());
    }
    const out = stageOut;
    // Each model trained a LoRA adapter on its own architecture's modules and generated its answers.
    const targets = (id: string) => (JSON.parse(readFileSync(join(out(`adapter[${id}]`), 'adapter_config.json'), 'utf8')) as { target_modules: string[] }).target_modules;
    expect(targets('TinyLlama/TinyLlama-1.1B-Chat-v1.0')).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    expect(targets('microsoft/phi-2')).toEqual(['q_proj', 'k_proj', 'v_proj', 'dense', 'fc1', 'fc2']);
    expect(targets('Qwen/Qwen1.5-MoE-A2.7B')).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate', 'gate_proj', 'up_proj', 'down_proj', 'shared_expert_gate']);
    for (const id of ids) {
      const predictions = readFileSync(join(out(`predictions[${id}]`), 'predictions.jsonl'), 'utf8').trim().split('\n');
      expect(predictions.length, id).toBeGreaterThan(0);
      const config = JSON.parse(readFileSync(join(out(`quantized[${id}]`), 'config.json'), 'utf8')) as { model_type: string; quantization_config: { bits: number } };
      expect(config.model_type).toBe(STAND_INS[id]!.model_type);
      expect(config.quantization_config.bits).toBe(4);
    }
    const report = readFileSync(join(out('report'), 'table2.md'), 'utf8');
    for (const id of ids) expect(report).toContain(id);
  });
});
