import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { environmentInfo } from '../../../src/engine/store/index.js';

describe('environmentInfo', () => {
  it('records node, platform, cpu and installed package versions', () => {
    const env = environmentInfo();
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const ort = JSON.parse(readFileSync('node_modules/onnxruntime-node/package.json', 'utf8')) as { version: string };
    const hf = JSON.parse(readFileSync('node_modules/@huggingface/transformers/package.json', 'utf8')) as { version: string };
    expect(env).toMatchObject({
      node: process.versions.node,
      platform: process.platform,
      arch: process.arch,
      cpuCount: cpus().length,
      polypersona: pkg.version,
      onnxruntimeNode: ort.version,
      transformers: hf.version,
    });
    expect(env.cpuModel.length).toBeGreaterThan(0);
    expect(env.hostname.length).toBeGreaterThan(0);
    // JSON-serialisable (it goes into stage.json)
    expect(JSON.parse(JSON.stringify(env))).toEqual(env);
  });
});
