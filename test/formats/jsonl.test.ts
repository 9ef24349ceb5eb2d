import { describe, expect, it } from 'vitest';
import { idOf, jsonlLines, toJsonl } from '../../src/formats/jsonl.js';
import { schemaProblem } from '../../src/formats/schema-check.js';

describe('JSONL lines', () => {
  it('skips blank lines, drops a trailing \\r, numbers lines from 1, names what is not an object', () => {
    const rows = [...jsonlLines('{"a":1}\r\n\n  \n[1]\nnull\n{bad\n"text"\n')];
    expect(rows.map((r) => [r.line, r.value ?? r.problem])).toEqual([
      [1, { a: 1 }],
      [4, 'not a JSON object'],
      [5, 'not a JSON object'],
      [6, expect.stringMatching(/^not valid JSON \(/)],
      [7, 'not a JSON object'],
    ]);
  });

  it('ids: text or whole numbers', () => {
    expect(idOf({ id: 'a' })).toBe('a');
    expect(idOf({ id: 12 })).toBe('12');
    expect(idOf({ id: '' })).toBeUndefined();
    expect(idOf({ id: 1.5 })).toBeUndefined();
    expect(idOf(undefined)).toBeUndefined();
  });

  it('writes one compact object per line and nothing for no records', () => {
    expect(toJsonl([{ a: 1 }, { b: [2] }])).toBe('{"a":1}\n{"b":[2]}\n');
    expect(toJsonl([])).toBe('');
  });
});

describe('schema problems', () => {
  it('reports the first problem as field: message, undefined when valid', () => {
    expect(schemaProblem('prediction-record', { id: 'a', prediction: 'x' })).toBeUndefined();
    expect(schemaProblem('prediction-record', { id: 'a', prediction: 'x', question_type: ['open'] })).toBe('question_type: must be string or null');
    expect(schemaProblem('adapter-config', { r: 1 })).toBe('missing required field "lora_alpha"');
  });
});
