import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../../src/core/errors.js';
import type { HostTensor } from '../../../src/model/tensor.js';
import { INDEX_FILE, locateSafetensors, readSafetensorsDir, SINGLE_FILE, writeSafetensorsDir } from '../../../src/model/safetensors/index.js';
import { tempDir } from '../../helpers/stage-context.js';

function tensors(): Map<string, HostTensor> {
  const m = new Map<string, HostTensor>();
  for (let i = 0; i < 5; i++) m.set(`layers.${i}.weight`, { dtype: 'F32', shape: [4, 4], data: Float32Array.from({ length: 16 }, (_, j) => i * 100 + j) });
  m.set('norm.weight', { dtype: 'BF16', shape: [4], data: Uint16Array.from([1, 2, 3, 4]) });
  return m;
}

describe('sharded safetensors directories', () => {
  it('writes one file when under the shard cap', () => {
    const dir = tempDir();
    expect(writeSafetensorsDir(dir, tensors())).toEqual([SINGLE_FILE]);
    expect(existsSync(join(dir, INDEX_FILE))).toBe(false);
    const back = readSafetensorsDir(dir);
    expect(Array.from(back.get('layers.3.weight')!.data as Float32Array)[5]).toBe(305);
  });

  it('shards above the cap, with an index HF can read, and reads back identically', () => {
    const dir = tempDir();
    const files = writeSafetensorsDir(dir, tensors(), { maxShardBytes: 150 });
    expect(files).toEqual(['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors', INDEX_FILE]);
    const index = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8'));
    expect(index.metadata.total_size).toBe(5 * 64 + 8);
    expect(index.weight_map['layers.0.weight']).toBe('model-00001-of-00003.safetensors');
    expect(index.weight_map['norm.weight']).toBe('model-00003-of-00003.safetensors');
    const back = readSafetensorsDir(dir);
    for (const [name, t] of tensors()) expect(Array.from(back.get(name)!.data as ArrayLike<number>), name).toEqual(Array.from(t.data as ArrayLike<number>));
    expect(locateSafetensors(dir).get('layers.4.weight')!.file).toBe('model-00003-of-00003.safetensors');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('names the index when it points at a tensor the shard lacks', () => {
    const dir = tempDir();
    writeSafetensorsDir(dir, tensors(), { maxShardBytes: 150 });
    const index = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8'));
    index.weight_map['layers.0.weight'] = 'model-00002-of-00003.safetensors';
    writeFileSync(join(dir, INDEX_FILE), JSON.stringify(index));
    expect(() => readSafetensorsDir(dir)).toThrow(DataError);
    expect(() => readSafetensorsDir(dir)).toThrow(/model.safetensors.index.json.*layers\.0\.weight/);
  });

  it('refuses shard paths outside the directory', () => {
    const dir = tempDir();
    writeFileSync(join(dir, INDEX_FILE), JSON.stringify({ weight_map: { a: '../evil.safetensors' } }));
    expect(() => readSafetensorsDir(dir)).toThrow(/must be a shard file name/);
  });

  it('refuses a malformed index and a directory without weights', () => {
    const dir = tempDir();
    expect(() => readSafetensorsDir(dir)).toThrow(/no model.safetensors/);
    writeFileSync(join(dir, INDEX_FILE), '{ nope');
    expect(() => readSafetensorsDir(dir)).toThrow(/index.json: not valid JSON/);
  });
});
