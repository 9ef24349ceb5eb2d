import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, readTextFile } from '../../src/core/files.js';
import { DataError } from '../../src/core/errors.js';
import { removeTempDirs, tempDir } from '../helpers/stage-context.js';

afterAll(removeTempDirs);

describe('reading files', () => {
  it('reads text and JSON', () => {
    const file = join(tempDir(), 'a.json');
    writeFileSync(file, '{"a": [1]}');
    expect(readTextFile(file)).toBe('{"a": [1]}');
    expect(readJsonFile(file)).toEqual({ a: [1] });
  });

  it('a missing file, a folder, a broken JSON file: DataErrors naming the file', () => {
    const dir = tempDir();
    const missing = join(dir, 'nope.json');
    expect(() => readTextFile(missing)).toThrow(`${missing}: cannot read (no such file)`);
    expect(() => readTextFile(missing, 'the model config')).toThrow(`${missing}: cannot read the model config (no such file)`);
    expect(() => readTextFile(dir)).toThrow(`${dir}: cannot read: it is a directory, not a regular file`);
    const broken = join(dir, 'b.json');
    writeFileSync(broken, '{"a": ');
    let err: unknown;
    try {
      readJsonFile(broken);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toMatch(new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON \\(`));
    expect((err as DataError).location).toEqual({ file: broken });
  });
});
