import { describe, expect, it } from 'vitest';
import { parseExpression, resolveRuntimeExpressions } from '../../../src/engine/pipeline/expressions.js';
import { parsePipeline } from '../../../src/engine/pipeline/index.js';
import { testRegistry } from './fixtures.js';

const lines = (...l: string[]): string => l.join('\n') + '\n';

describe('parseExpression', () => {
  it('reads the four forms, spaces optional', () => {
    expect(parseExpression(' params.seed ')).toEqual({ kind: 'param', path: ['seed'] });
    expect(parseExpression('params.model.name')).toEqual({ kind: 'param', path: ['model', 'name'] });
    expect(parseExpression('matrix.model')).toEqual({ kind: 'matrix', axis: 'model' });
    expect(parseExpression('stages.adapter.outputs.dir')).toEqual({ kind: 'stage-output', stage: 'adapter' });
    expect(parseExpression('stages.adapter[phi-2,1.5].outputs.dir')).toEqual({ kind: 'stage-output', stage: 'adapter[phi-2,1.5]' });
    expect(parseExpression('outputs.dir')).toEqual({ kind: 'own-output' });
  });

  it('explains what is wrong', () => {
    expect(parseExpression('')).toMatch(/^empty expression/);
    expect(parseExpression('param.seed')).toBe('unknown expression "param.seed" (did you mean params?); expressions are params.NAME, matrix.AXIS, stages.ID.outputs.dir or outputs.dir');
    expect(parseExpression('stages.a.outputs')).toBe('bad expression "stages.a.outputs" (expected stages.ID.outputs.dir; expressions have no operators)');
    expect(parseExpression('outputs.path')).toBe('bad expression "outputs.path" (expected outputs.dir; expressions have no operators)');
    expect(parseExpression('matrix')).toBe('bad expression "matrix" (expected matrix.AXIS; expressions have no operators)');
    expect(parseExpression('"quoted"')).toMatch(/^unknown expression ""quoted""; /);
  });
});

describe('resolveRuntimeExpressions', () => {
  const ctx = { outputsDir: '/o', stageDirs: { a: '/c/a', 'm[x,1]': '/c/m' } };

  it('substitutes deeply and leaves other values alone', () => {
    const params = { run: 'cp ${{stages.a.outputs.dir}}/f ${{ outputs.dir }}/f', list: ['${{ stages.m[x,1].outputs.dir }}', 3], nested: { keep: true, x: null } };
    expect(resolveRuntimeExpressions(params, ctx)).toEqual({ run: 'cp /c/a/f /o/f', list: ['/c/m', 3], nested: { keep: true, x: null } });
    expect(params.run).toBe('cp ${{stages.a.outputs.dir}}/f ${{ outputs.dir }}/f');
  });

  it('throws on a stage it was not given', () => {
    expect(() => resolveRuntimeExpressions('${{ stages.b.outputs.dir }}', ctx)).toThrow('no output directory for stage "b"');
  });
});

describe('compile-time expressions in a pipeline', () => {
  const text = lines(
    'version: 1',
    'name: expr-test',
    'params:',
    '  seed: 11',
    '  model: { name: tiny, layers: 2 }',
    '  flag: true',
    'stages:',
    '  base:',
    '    uses: init-model',
    '    description: "model ${{ params.model.name }}"',
    '    with:',
    '      preset: ${{ params.model.name }}',
    '      seed: ${{params.seed}}',
    '  c:',
    '    run: |',
    '      echo ${{ params.model }} ${{ params.flag }} ${{ params.seed }}',
    '      cat ${{ stages.base.outputs.dir }}/config.json > ${{ outputs.dir }}/out.json',
    '    env: { SEED: "${{ params.seed }}", N: 3, ON: ${{ params.flag }} }',
    '    deps: ["data/${{ params.model.name }}.jsonl"]',
    '    outs: [out.json]',
  );
  const p = parsePipeline(text, '/w/p.yaml', testRegistry());

  it('keeps types for a whole plain scalar and interpolates otherwise', () => {
    expect(p.name).toBe('expr-test');
    expect(p.seed).toBe(11);
    expect(p.stages.get('base')!.params).toEqual({ preset: 'tiny', seed: 11 });
    expect(p.stages.get('base')!.description).toBe('model tiny');
    const c = p.stages.get('c')!;
    expect(c.params.run).toBe('echo {"name":"tiny","layers":2} true 11\ncat ${{ stages.base.outputs.dir }}/config.json > ${{ outputs.dir }}/out.json\n');
    expect(c.needs).toEqual(['base']);
  });

  it('stringifies env values, and a quoted expression stays a string', () => {
    expect(p.stages.get('c')!.params.env).toEqual({ SEED: '11', N: '3', ON: 'true' });
    const quoted = lines('version: 1', 'params: { seed: 3 }', 'stages:', '  b: { uses: init-model, with: { seed: "${{ params.seed }}" } }');
    expect(() => parsePipeline(quoted, 'q.yaml', testRegistry())).toThrow('q.yaml:4:40: stages.b.with.seed: must be integer (got string "3")');
  });

  it('resolves params in deps into absolute file deps', () => {
    expect(p.stages.get('c')!.fileDeps).toEqual(['/w/data/tiny.jsonl']);
    expect(p.stages.get('c')!.params.outs).toEqual(['out.json']);
  });
});
