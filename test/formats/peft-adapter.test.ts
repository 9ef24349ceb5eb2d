import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, peftAdapterConfig, peftLoraTensorName, readPeftAdapterDir, writePeftAdapter } from '../../src/formats/peft-adapter.js';
import { recordSchema } from '../../src/formats/schema-check.js';
import { DataError } from '../../src/core/errors.js';
import type { HostTensor } from '../../src/model/tensor.js';
import { removeTempDirs, tempDir } from '../helpers/stage-context.js';

afterAll(removeTempDirs);

const path = 'model.layers.0.self_attn.q_proj';
const settings = { r: 2, lora_alpha: 8, lora_dropout: 0.05, target_modules: ['q_proj'], base_model_name_or_path: 'tiny' };

function tensors(): Map<string, HostTensor> {
  return new Map<string, HostTensor>([
    [peftLoraTensorName(path, 'A'), { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    [peftLoraTensorName(path, 'B'), { dtype: 'F32', shape: [4, 2], data: Float32Array.from([0, 1, 0, 1, 0, 1, 0, 1]) }],
  ]);
}

function adapterDir(config: unknown = peftAdapterConfig(settings)): string {
  const dir = tempDir('pp-adapter-');
  writePeftAdapter(dir, config as Record<string, unknown>, tensors());
  return dir;
}

describe('PEFT adapter directory', () => {
  it('names tensors as PEFT does', () => {
    expect(peftLoraTensorName(path, 'A')).toBe('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(peftLoraTensorName(path, 'B')).toBe('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight');
  });

  it('writes PEFT\'s config (valid against the schema) and reads back config and tensors', () => {
    const dir = adapterDir();
    const json = JSON.parse(readFileSync(join(dir, ADAPTER_CONFIG_FILE), 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 2, lora_alpha: 8, lora_dropout: 0.05, target_modules: ['q_proj'], base_model_name_or_path: 'tiny', use_rslora: false });
    const ajv = new Ajv({ strict: false });
    expect(ajv.validate(recordSchema('adapter-config'), json)).toBe(true);
    const read = readPeftAdapterDir(dir);
    expect(read).toMatchObject({ r: 2, loraAlpha: 8, scaling: 4, targetModules: ['q_proj'], configJson: json });
    expect([...read.tensors.keys()]).toEqual([...tensors().keys()]);
    expect(Array.from(read.tensors.get(peftLoraTensorName(path, 'A'))!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('scaling is lora_alpha / sqrt(r) with use_rslora', () => {
    const dir = adapterDir({ ...peftAdapterConfig(settings), r: 4, lora_alpha: 8, use_rslora: true });
    expect(readPeftAdapterDir(dir).scaling).toBe(4);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['an array', [1], /adapter_config\.json: not a JSON object/],
    ['no r', { lora_alpha: 8 }, /adapter_config\.json: missing required field "r"/],
    ['r = 0', { r: 0, lora_alpha: 8 }, /adapter_config\.json: r: must be >= 1/],
    ['a fractional r', { r: 2.5, lora_alpha: 8 }, /adapter_config\.json: r: must be integer/],
    ['a text lora_alpha', { r: 2, lora_alpha: '8' }, /adapter_config\.json: lora_alpha: must be number/],
    ['another PEFT method', { r: 2, lora_alpha: 8, peft_type: 'IA3' }, /adapter_config\.json: peft_type: must be "LORA"/],
  ];
  for (const [name, config, error] of bad) {
    it(`rejects a config with ${name}`, () => {
      const dir = adapterDir(config);
      expect(() => readPeftAdapterDir(dir)).toThrow(DataError);
      expect(() => readPeftAdapterDir(dir)).toThrow(error);
    });
  }

  it('names the missing or broken file', () => {
    const dir = adapterDir();
    writeFileSync(join(dir, ADAPTER_CONFIG_FILE), '{"r": 2,');
    expect(() => readPeftAdapterDir(dir)).toThrow(`${join(dir, ADAPTER_CONFIG_FILE)}: not valid JSON`);
    rmSync(join(dir, ADAPTER_CONFIG_FILE));
    expect(() => readPeftAdapterDir(dir)).toThrow(/adapter_config\.json: adapter config missing \(a PEFT adapter dir needs adapter_config\.json and adapter_model\.safetensors\)/);
    const noWeights = adapterDir();
    rmSync(join(noWeights, ADAPTER_WEIGHTS_FILE));
    expect(() => readPeftAdapterDir(noWeights)).toThrow(`${join(noWeights, ADAPTER_WEIGHTS_FILE)}: adapter weights missing`);
  });
});
