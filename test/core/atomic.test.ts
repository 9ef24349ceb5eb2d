import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeChunksAtomic, writeFileAtomic } from '../../src/core/atomic.js';

describe('atomic writes', () => {
  it('replace a file whole and leave no temp files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-atomic-'));
    const path = join(dir, 'sub', 'f.txt');
    writeFileAtomic(path, 'first');
    writeFileAtomic(path, new Uint8Array([104, 105]));
    expect(readFileSync(path, 'utf8')).toBe('hi');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['f.txt']);
  });

  it('stream chunks from a generator, and keep the old file when the producer throws', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-atomic-'));
    const path = join(dir, 'data.bin');
    writeChunksAtomic(path, (function* () {
      for (let i = 0; i < 4; i++) yield new Uint8Array(1000).fill(i);
    })());
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(4000);
    expect([bytes[0], bytes[1999], bytes[3999]]).toEqual([0, 1, 3]);
    writeFileSync(path, 'old');
    expect(() =>
      writeChunksAtomic(path, (function* () {
        yield new Uint8Array(10);
        throw new Error('producer failed');
      })()),
    ).toThrow('producer failed');
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['data.bin']);
  });
});
