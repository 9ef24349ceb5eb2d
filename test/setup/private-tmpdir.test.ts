import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('test temp folders', () => {
  it('live in a private pp-vitest-* folder per test file, which the setup removes at the end', () => {
    const made = mkdtempSync(join(tmpdir(), 'pp-x-'));
    expect(basename(dirname(made))).toMatch(/^pp-vitest-/);
    expect(existsSync(made)).toBe(true);
  });
});
