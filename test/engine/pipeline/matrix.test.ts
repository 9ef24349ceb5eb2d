import { describe, expect, it } from 'vitest';
import { parsePipeline, PipelineError } from '../../../src/engine/pipeline/index.js';
import { comboSuffix, expandMatrix, pairExpansions } from '../../../src/engine/pipeline/matrix.js';
import { testRegistry } from './fixtures.js';

const FILE = 'm.yaml';
const lines = (...l: string[]): string => l.join('\n') + '\n';
const load = (text: string) => parsePipeline(text, FILE, testRegistry());
function errorsOf(text: string): string[] {
  try {
    load(text);
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineError);
    return (err as Error).message.split('\n');
  }
  throw new Error('expected a PipelineError');
}

describe('expandMatrix', () => {
  it('takes the cartesian product over sorted axes, first axis slowest', () => {
    expect(expandMatrix({ axes: { model: ['a', 'b'], lr: [1, 2] }, include: [], exclude: [] })).toEqual([
      { lr: 1, model: 'a' },
      { lr: 1, model: 'b' },
      { lr: 2, model: 'a' },
      { lr: 2, model: 'b' },
    ]);
  });

  it('drops excluded partial combos and appends included ones once', () => {
    const combos = expandMatrix({
      axes: { model: ['a', 'b'], lr: [1, 2] },
      exclude: [{ model: 'b', lr: 2 }],
      include: [{ model: 'c', lr: 1 }, { model: 'a', lr: 1 }],
    });
    expect(combos).toEqual([{ lr: 1, model: 'a' }, { lr: 1, model: 'b' }, { lr: 2, model: 'a' }, { lr: 1, model: 'c' }]);
  });

  it('rejects include entries missing an axis, unknown exclude axes, and everything excluded', () => {
    expect(expandMatrix({ axes: { a: [1] }, include: [{ b: 1 }], exclude: [] })).toBe('include entries must give every axis (a), got b');
    expect(expandMatrix({ axes: { a: [1] }, include: [], exclude: [{ b: 1 }] })).toBe('exclude names unknown axis "b" (axes: a)');
    expect(expandMatrix({ axes: { a: [1] }, include: [], exclude: [{ a: 1 }] })).toBe('exclude removes every combination');
    expect(expandMatrix({ axes: { a: [1, '1'] }, include: [], exclude: [] })).toBe('two combinations print the same: [1] (values must differ as text)');
  });

  it('names combos in sorted axis order whatever the key order', () => {
    expect(comboSuffix({ model: 'phi-2', lr: 0.5 })).toBe('0.5,phi-2');
    expect(comboSuffix({ lr: 0.5, model: 'phi-2' })).toBe('0.5,phi-2');
  });

  it('pairs on shared axes, else takes every expansion', () => {
    const needed = { id: 'a', combos: [{ m: 'x' }, { m: 'y' }] };
    expect(pairExpansions(needed, { m: 'y', s: 1 })).toEqual({ ids: ['a[y]'], paired: true });
    expect(pairExpansions(needed, { s: 1 })).toEqual({ ids: ['a[x]', 'a[y]'], paired: false });
    expect(pairExpansions(needed, undefined)).toEqual({ ids: ['a[x]', 'a[y]'], paired: false });
    expect(pairExpansions({ id: 'b' }, { m: 'x' })).toEqual({ ids: ['b'], paired: true });
  });
});

const sweep = lines(
  'version: 1',
  'params: { models: [tiny, small] }',
  'stages:',
  '  d: { uses: import-dataset, with: { path: data.jsonl } }',
  '  chatml: { uses: build-chatml, needs: d }',
  '  base:',
  '    uses: init-model',
  '    matrix: { model: ${{ params.models }} }',
  '    with: { preset: ${{ matrix.model }} }',
  '  adapter:',
  '    uses: lora-train',
  '    matrix: { model: [tiny, small], r: [4, 8] }',
  '    needs: [base, chatml]',
  '    with: { r: ${{ matrix.r }}, model: "${{ matrix.model }}-r${{ matrix.r }}" }',
  '  predictions:',
  '    uses: generate',
  '    matrix: { r: [4, 8], model: [tiny, small] }',
  '    needs: [chatml, adapter]',
  '    with: { seed: ${{ matrix.r }} }',
  '    description: ${{ stages.adapter.outputs.dir }}',
  '  scores:',
  '    uses: score',
  '    matrix: { model: [tiny, small], r: [4, 8] }',
  '    needs: predictions',
  '  table:',
  '    run: cat ${{ stages.scores[small,8].outputs.dir }}/metrics.json > ${{ outputs.dir }}/t.json',
  '    needs: [scores]',
);

describe('matrix stages in a pipeline', () => {
  it('rejects a runtime expression in a description', () => {
    expect(errorsOf(sweep)).toEqual([
      "m.yaml:20:18: stages.predictions.description: ${{ stages.adapter.outputs.dir }} is known only when the stage runs; it may stand in with, run and env, not in description",
    ]);
  });

  const p = load(sweep.replace('    description: ${{ stages.adapter.outputs.dir }}\n', ''));

  it('expands each combination under an id with values in sorted axis order', () => {
    expect([...p.stages.keys()]).toEqual([
      'd',
      'chatml',
      'base[tiny]',
      'base[small]',
      'adapter[tiny,4]',
      'adapter[tiny,8]',
      'adapter[small,4]',
      'adapter[small,8]',
      'predictions[tiny,4]',
      'predictions[tiny,8]',
      'predictions[small,4]',
      'predictions[small,8]',
      'scores[tiny,4]',
      'scores[tiny,8]',
      'scores[small,4]',
      'scores[small,8]',
      'table',
    ]);
  });

  it('resolves matrix values with their types, and a whole list from params', () => {
    expect(p.stages.get('base[small]')!.params).toEqual({ preset: 'small', seed: 0 });
    expect(p.stages.get('base[small]')!.matrix).toEqual({ model: 'small' });
    expect(p.stages.get('base[small]')!.baseId).toBe('base');
    const a = p.stages.get('adapter[small,8]')!;
    expect(a.params.r).toBe(8);
    expect(a.params.model).toBe('small-r8');
    expect(a.matrix).toEqual({ model: 'small', r: 8 });
  });

  it('pairs needs on shared axes', () => {
    expect(p.stages.get('adapter[small,8]')!.needs).toEqual(['base[small]', 'chatml']);
    expect(p.stages.get('predictions[tiny,4]')!.needs).toEqual(['chatml', 'adapter[tiny,4]']);
    expect(p.stages.get('scores[tiny,4]')!.needs).toEqual(['predictions[tiny,4]']);
  });

  it('a stage without the axes depends on every expansion; an expanded id names one', () => {
    const table = p.stages.get('table')!;
    expect(table.needs).toEqual(['scores[tiny,4]', 'scores[tiny,8]', 'scores[small,4]', 'scores[small,8]']);
    expect(table.params.run).toBe('cat ${{ stages.scores[small,8].outputs.dir }}/metrics.json > ${{ outputs.dir }}/t.json');
  });

  it('select() takes a base id to all its expansions', () => {
    expect(p.select(['base', 'table'])).toEqual(['base[tiny]', 'base[small]', 'table']);
    expect(p.select(['adapter[tiny,4]'])).toEqual(['adapter[tiny,4]']);
    expect(() => p.select(['adaptor'])).toThrow(/no stage "adaptor" \(did you mean adapter\?\)/);
    expect(p.downstream(['base[tiny]'])).toEqual(['adapter[tiny,4]', 'adapter[tiny,8]', 'predictions[tiny,4]', 'predictions[tiny,8]', 'scores[tiny,4]', 'scores[tiny,8]', 'table']);
  });
});

describe('matrix references and errors', () => {
  const head = lines('version: 1', 'stages:', '  base:', '    uses: init-model', '    matrix: { preset: [tiny, small] }', '    with: { preset: ${{ matrix.preset }} }');

  it('runtime references to a matrix stage pair, or need one named expansion', () => {
    const paired = load(head + lines('  c:', '    matrix: { preset: [tiny, small] }', '    run: ls ${{ stages.base.outputs.dir }}'));
    expect(paired.stages.get('c[small]')!.params.run).toBe('ls ${{ stages.base[small].outputs.dir }}');
    expect(paired.stages.get('c[small]')!.needs).toEqual(['base[small]']);
    const named = load(head + lines('  c:', '    run: ls ${{ stages.base[tiny].outputs.dir }}'));
    expect(named.stages.get('c')!.needs).toEqual(['base[tiny]']);
    expect(errorsOf(head + lines('  c:', '    run: ls ${{ stages.base.outputs.dir }}'))).toEqual([
      'm.yaml:8:13: stages.c.run: stage base is a matrix stage: give this stage the same matrix axes to pair with it, or name one expansion (stages.base[tiny].outputs.dir)',
    ]);
  });

  it('reports a bad axis, a bad value list and an unknown axis reference', () => {
    expect(
      errorsOf(
        lines(
          'version: 1',
          'params: { n: 3 }',
          'stages:',
          '  a:',
          '    uses: init-model',
          '    matrix: { preset: [tiny], 1x: [a] }',
          '  b:',
          '    uses: init-model',
          '    matrix: { preset: ${{ params.n }} }',
          '  c:',
          '    uses: init-model',
          '    matrix: { preset: [tiny, small] }',
          '    with: { preset: ${{ matrix.prest }} }',
          '  d:',
          '    uses: init-model',
          '    matrix: { x: [a, "b,c"], exclude: [{ y: 1 }] }',
        ),
      ),
    ).toEqual([
      'm.yaml:6:31: stages.a.matrix.1x: invalid matrix axis name "1x" (letters, digits, "_" and "-"; not starting with a digit or "-")',
      'm.yaml:9:23: stages.b.matrix.preset: a matrix axis must be a non-empty list of strings, numbers or booleans (got number 3)',
      'm.yaml:13:21: stages.c.with.preset: unknown matrix axis "prest" (did you mean preset?); axes: preset',
      'm.yaml:16:18: stages.d.matrix.x: matrix value "b,c" contains ",", "[" or "]", which would make expanded ids ambiguous',
    ]);
    expect(errorsOf(lines('version: 1', 'stages:', '  a:', '    uses: init-model', '    matrix: { x: [a], exclude: [{ y: 1 }] }'))).toEqual([
      'm.yaml:5:13: stages.a.matrix: exclude names unknown axis "y" (axes: x)',
    ]);
    expect(errorsOf(lines('version: 1', 'stages:', '  a:', '    uses: init-model', '    matrix: { x: [a], include: [{ x: "b]" }] }'))).toEqual([
      'm.yaml:5:32: stages.a.matrix.include: matrix value "b]" contains ",", "[" or "]", which would make expanded ids ambiguous',
    ]);
    expect(errorsOf(lines('version: 1', 'stages:', '  a:', '    uses: init-model', '    matrix: { x: [] }'))).toEqual([
      'm.yaml:5:18: stages.a.matrix.x: must list at least one value',
    ]);
  });
});
