import { describe, expect, it } from 'vitest';
import { PipelineSource } from '../../../src/engine/pipeline/source.js';

describe('PipelineSource', () => {
  it('parses expressions inside flow mappings and restores their text', () => {
    const s = new PipelineSource('f.yaml', 'a: { b: ${{ params.x }}, c: [${{ matrix.m }}, 2] }\n');
    expect(s.value).toEqual({ a: { b: '${{ params.x }}', c: ['${{ matrix.m }}', 2] } });
    expect(s.expressions.map((e) => [e.inner, e.offset])).toEqual([
      ['params.x', 8],
      ['matrix.m', 29],
    ]);
    expect(s.expressionStrings).toEqual([
      { path: ['a', 'b'], expressions: [0], typed: true },
      { path: ['a', 'c', 0], expressions: [1], typed: true },
    ]);
  });

  it('keeps positions exact after masking, on the same line and after it', () => {
    const text = 'x: ${{ params.a }} ${{ params.b }} tail\ny: { z: 1 }\n';
    const s = new PipelineSource('f.yaml', text);
    expect(s.locate(['y', 'z'])).toEqual({ file: 'f.yaml', line: 2, column: 9 });
    expect(s.locate(['y', 'z'], { key: true })).toEqual({ file: 'f.yaml', line: 2, column: 6 });
    expect(s.position(s.expressions[1]!.offset)).toEqual({ file: 'f.yaml', line: 1, column: 20 });
    expect(s.expressionStrings[0]).toEqual({ path: ['x'], expressions: [0, 1], typed: false });
  });

  it('marks quoted and block scalars as untyped', () => {
    const s = new PipelineSource('f.yaml', 'a: "${{ params.x }}"\nb: |\n  ${{ params.y }}\n');
    expect(s.expressionStrings.map((e) => e.typed)).toEqual([false, false]);
    expect(s.value).toEqual({ a: '${{ params.x }}', b: '${{ params.y }}\n' });
  });

  it('follows aliases', () => {
    const s = new PipelineSource('f.yaml', 'base: &b { r: 4 }\ncopy: *b\n');
    expect(s.value).toEqual({ base: { r: 4 }, copy: { r: 4 } });
    expect(s.locate(['copy', 'r'])).toEqual({ file: 'f.yaml', line: 1, column: 15 });
  });

  it('points a missing path at the key of its deepest existing ancestor', () => {
    const s = new PipelineSource('f.yaml', 'a:\n  b: 1\n');
    expect(s.locate(['a', 'nope', 'deeper'])).toEqual({ file: 'f.yaml', line: 1, column: 1 });
    expect(s.locate([])).toEqual({ file: 'f.yaml', line: 1, column: 1 });
  });

  it('finds unterminated expressions inside strings only', () => {
    const s = new PipelineSource('f.yaml', '# a comment ${{ is fine\nrun: echo ${{ params.x\n');
    expect(s.unterminated).toEqual([{ path: ['run'], offset: 34 }]);
  });
});
