import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseCsv, parseJsonl, readJsonl } from '../../src/survey/jsonl.js';
import { readTextFile } from '../../src/core/files.js';
import { toJsonl } from '../../src/formats/jsonl.js';
import { personasFromPersonaHub, readPersonaRows } from '../../src/survey/persona-sources.js';
import { tempDir } from '../helpers/stage-context.js';
import { DataError } from '../../src/core/errors.js';

describe('JSONL and CSV readers', () => {
  it('parse JSONL with line numbers, skipping blanks', () => {
    expect(parseJsonl('{"a":1}\n\n{"a":2}\r\n', 'f')).toEqual([{ line: 1, value: { a: 1 } }, { line: 3, value: { a: 2 } }]);
    expect(toJsonl([{ a: 1 }, { b: 'x' }])).toBe('{"a":1}\n{"b":"x"}\n');
    expect(toJsonl([])).toBe('');
  });
  it('list every broken JSONL line with its number', () => {
    let err: unknown;
    try { parseJsonl('{"a":1}\n{"a":\n"str"\n{"ok":true}\n{', 'data.jsonl'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toMatch(/^data\.jsonl: 3 broken line\(s\): line 2: .*; line 3: not a JSON object; line 5: /);
    expect((err as DataError).location).toEqual({ file: 'data.jsonl', line: 2 });
  });
  it('name a missing file in a DataError (not a bare ENOENT)', () => {
    const missing = join(tempDir('pp-none-'), 'personas.csv');
    for (const read of [() => readTextFile(missing), () => readJsonl(missing), () => readPersonaRows(missing), () => personasFromPersonaHub(missing, 1, 0)]) {
      let err: unknown;
      try { read(); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).message).toBe(`${missing}: cannot read (no such file)`);
      expect((err as DataError).location).toEqual({ file: missing });
    }
  });
  it('parse RFC 4180 CSV: quotes, doubled quotes, embedded newlines and commas, CRLF', () => {
    const rows = parseCsv('id,text\r\n1,"a, b"\r\n2,"say ""hi"""\r\n3,"two\nlines"\r\n4,\r\n', 'f.csv');
    expect(rows).toEqual([
      { line: 2, value: { id: '1', text: 'a, b' } },
      { line: 3, value: { id: '2', text: 'say "hi"' } },
      { line: 4, value: { id: '3', text: 'two\nlines' } },
      { line: 6, value: { id: '4', text: '' } },
    ]);
  });
  it('report CSV rows with the wrong field count and unterminated quotes', () => {
    expect(() => parseCsv('a,b\n1,2,3\n4\n', 'f.csv')).toThrow(/f\.csv: 2 broken line\(s\): line 2: 3 fields, header has 2; line 3: 1 fields, header has 2/);
    expect(() => parseCsv('a,b\n1,"open\n', 'f.csv')).toThrow(/line 2: unterminated quoted field/);
    expect(() => parseCsv('', 'f.csv')).toThrow(/empty CSV/);
  });
});
