import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/core/canonical-json.js';
import { UserError } from '../../../src/core/errors.js';
import { loadPipeline, parsePipeline, resolveRuntimeExpressions } from '../../../src/engine/pipeline/index.js';
import { designExample, testRegistry } from './fixtures.js';

const FILE = '/proj/pipelines/smoke.yaml';

describe('parsePipeline on the DESIGN.md example', () => {
  const p = parsePipeline(designExample, FILE, testRegistry());

  it('reads the header', () => {
    expect(p.file).toBe(FILE);
    expect(p.dir).toBe('/proj/pipelines');
    expect(p.name).toBe('smoke');
    expect(p.version).toBe(1);
    expect(p.params).toEqual({ seed: 7 });
    expect(p.seed).toBe(7);
  });

  it('orders stages topologically, YAML order among ready ones', () => {
    expect([...p.stages.keys()]).toEqual(['personas', 'dataset', 'chatml', 'base', 'quantized', 'adapter', 'predictions', 'scores', 'custom']);
  });

  it('keeps the type of a whole-scalar expression inside a flow mapping', () => {
    expect(p.stages.get('personas')!.params).toEqual({ count: 40, seed: 7 });
  });

  it('fills defaults from the stage params schema', () => {
    expect(p.stages.get('adapter')!.params).toEqual({
      r: 16,
      lora_alpha: 32,
      lora_dropout: 0.05,
      learning_rate: 2.0e-4,
      num_train_epochs: 3,
      target_modules: ['q_proj', 'v_proj'],
    });
    expect(p.stages.get('dataset')!.params).toEqual({ teacher: { kind: 'template' } });
  });

  it('builds command params, leaves runtime expressions in place and implies the need', () => {
    const custom = p.stages.get('custom')!;
    expect(custom.type).toBe('command');
    expect(custom.params).toEqual({
      run: 'python3 tools/extra.py --in ${{ stages.predictions.outputs.dir }} --out ${{ outputs.dir }}',
      deps: ['tools/extra.py'],
      outs: [],
      env: {},
    });
    expect(custom.needs).toEqual(['predictions']);
    expect(custom.fileDeps).toEqual(['/proj/pipelines/tools/extra.py']);
    expect(resolveRuntimeExpressions(custom.params, { outputsDir: '/tmp/out', stageDirs: { predictions: '/cache/ab/out' } })).toEqual({
      ...custom.params,
      run: 'python3 tools/extra.py --in /cache/ab/out --out /tmp/out',
    });
  });

  it('records needs, definitions and the location of each stage key', () => {
    const adapter = p.stages.get('adapter')!;
    expect(adapter.needs).toEqual(['quantized', 'chatml']);
    expect(adapter.baseId).toBe('adapter');
    expect(adapter.definition.type).toBe('lora-train');
    expect(adapter.location).toEqual({ file: FILE, line: 23, column: 3 });
    expect(p.stages.get('personas')!.location).toEqual({ file: FILE, line: 5, column: 3 });
  });

  it('answers graph queries', () => {
    expect(p.dependents('chatml')).toEqual(['adapter', 'predictions']);
    expect(p.downstream(['quantized'])).toEqual(['adapter', 'predictions', 'scores', 'custom']);
    expect(p.upstream(['adapter'])).toEqual(['personas', 'dataset', 'chatml', 'base', 'quantized']);
    expect(p.downstream(['adapter', 'predictions'])).toEqual(['predictions', 'scores', 'custom']);
    expect(() => p.downstream(['adaptr'])).toThrow(/no stage "adaptr" \(did you mean adapter\?\)/);
  });
});

describe('loadPipeline', () => {
  it('reads the file and resolves relative deps against its directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-pipeline-'));
    const file = join(dir, 'smoke.yaml');
    writeFileSync(file, designExample);
    const p = loadPipeline(file, testRegistry());
    expect(p.dir).toBe(dir);
    expect(p.stages.get('custom')!.fileDeps).toEqual([join(dir, 'tools/extra.py')]);
  });

  it('names a missing file', () => {
    expect(() => loadPipeline('/nonexistent/p.yaml', testRegistry())).toThrow(UserError);
    expect(() => loadPipeline('/nonexistent/p.yaml', testRegistry())).toThrow('/nonexistent/p.yaml: cannot read pipeline file (no such file)');
  });
});

describe('what stage keys are made of is order independent', () => {
  it('gives the same params whatever the key order in YAML', () => {
    const a = parsePipeline('version: 1\nstages:\n  m:\n    uses: quantize\n    needs: b\n    with: { bits: 8, block_size: 16 }\n  b: { uses: init-model }\n', FILE, testRegistry());
    const b = parsePipeline('stages:\n  b: { uses: init-model }\n  m:\n    with:\n      block_size: 16\n      bits: 8\n    needs: b\n    uses: quantize\nversion: 1\n', FILE, testRegistry());
    const plan = (p: typeof a) => [...p.stages.values()].map((s) => canonicalJson({ id: s.id, type: s.type, params: s.params, needs: s.needs, fileDeps: s.fileDeps }));
    expect(plan(a)).toEqual(plan(b));
    expect(a.stages.get('m')!.params).toEqual({ bits: 8, block_size: 16 });
  });
});
