/** Help and output that say what the commands do (issue: docs and help matching behaviour). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliRig } from '../helpers/cli-rig.js';
import { tinyModelDir } from '../model/llama/model-dir-fixture.js';

const PIPELINE = (name: string) => `version: 1
name: ${name}
stages:
  a:
    run: echo a > \${{ outputs.dir }}/a
  b:
    needs: [a]
    run: echo b > \${{ outputs.dir }}/b
`;

describe('model info', () => {
  it('prints the quantization (none for float weights) and reads an adapter dir instead of failing with ENOENT', async () => {
    const rig = new CliRig();
    const { dir } = tinyModelDir();
    expect((await rig.run(['model', 'info', dir])).stdout).toMatch(/^quantized {3}none \(float weights\)$/m);
    const quantized = join(rig.dir, 'q');
    mkdirSync(quantized);
    const { cpSync, readFileSync } = await import('node:fs');
    cpSync(dir, quantized, { recursive: true });
    const config = JSON.parse(readFileSync(join(quantized, 'config.json'), 'utf8'));
    writeFileSync(join(quantized, 'config.json'), JSON.stringify({ ...config, quantization_config: { quant_method: 'onnx_matmul_nbits', bits: 4, block_size: 32, symmetric: false, accuracy_level: 4 } }));
    expect((await rig.run(['model', 'info', quantized])).stdout).toMatch(/^quantized {3}int4 MatMulNBits, block 32, asymmetric \(zero points\), accuracy_level 4$/m);

    const adapter = join(rig.dir, 'adapter');
    mkdirSync(adapter);
    writeFileSync(join(adapter, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: 'tiny' }));
    writeFileSync(join(adapter, 'adapter_model.safetensors'), Buffer.alloc(64));
    const res = await rig.run(['model', 'info', adapter]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('kind        LORA adapter (PEFT)');
    expect(res.stdout).toContain('lora        r 16, lora_alpha 32, dropout 0.05');
    expect(res.stdout).toContain('targets     q_proj, v_proj');
  });

  it('model generate is the top-level generate', async () => {
    const rig = new CliRig();
    const { dir } = tinyModelDir();
    const args = ['--model', dir, '--max-new-tokens', '4', '--json', 'How satisfied are you?'];
    const viaModel = await rig.run(['model', 'generate', ...args]);
    expect(viaModel.code).toBe(0);
    expect(JSON.parse(viaModel.stdout)).toEqual(JSON.parse((await rig.run(['generate', ...args])).stdout));
  });
});

describe('stages TYPE', () => {
  it('prints a table of params with type, default and description, and the schema with --json', async () => {
    const rig = new CliRig();
    const res = await rig.run(['stages', 'lora-train']);
    const lines = res.stdout.split('\n');
    expect(lines.length).toBeLessThan(120);
    expect(res.stdout).toMatch(/^param\s+type\s+default\s+description$/m);
    expect(res.stdout).toMatch(/^r\s+integer\s+16\s+≥ 1 — LoRA rank$/m);
    expect(res.stdout).not.toContain('"$schema"');
    const teacher = (await rig.run(['stages', 'synthesize-responses'])).stdout;
    expect(teacher).toMatch(/^teacher\.kind\s+enum\s+template\s+template \| openai \| model/m);
    const json = JSON.parse((await rig.run(['stages', 'lora-train', '--json'])).stdout);
    expect(json.params.properties.r.default).toBe(16);
  });
});

describe('dag and status', () => {
  it('dag --json lists stages with their needs', async () => {
    const rig = new CliRig();
    rig.write('p.yaml', PIPELINE('p'));
    const res = await rig.run(['dag', 'p.yaml', '--json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ pipeline: 'p', file: join(rig.dir, 'p.yaml'), stages: [{ id: 'a', type: 'command', needs: [] }, { id: 'b', type: 'command', needs: ['a'] }] });
  });

  it('status takes several pipelines; run and dag refuse a second one instead of ignoring it', async () => {
    const rig = new CliRig();
    rig.write('a.yaml', PIPELINE('first'));
    rig.write('b.yaml', PIPELINE('second').replaceAll('echo', 'printf'));
    await rig.run(['run', 'a.yaml']);
    const res = await rig.run(['status', 'a.yaml', 'b.yaml']);
    expect(res.stdout).toContain('first (a.yaml):');
    expect(res.stdout).toContain('second (b.yaml):');
    expect(res.stdout).toContain('2 cached, 0 to run');
    expect(res.stdout).toContain('0 cached, 2 to run');
    const json = JSON.parse((await rig.run(['status', 'a.yaml', 'b.yaml', '--json'])).stdout);
    expect(json.map((r: { pipeline: string }) => r.pipeline)).toEqual(['first', 'second']);
    const run = await rig.run(['run', 'a.yaml', 'b.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('run: one pipeline at a time, got 2');
    expect((await rig.run(['dag', 'a.yaml', 'b.yaml'])).code).toBe(2);
  });
});
