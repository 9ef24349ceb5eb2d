/**
 * Each test file runs with its own temp folder: TMPDIR points into a fresh `pp-vitest-*` folder
 * (os.tmpdir() reads TMPDIR on every call, and spawned CLIs inherit it), removed after the
 * file's last hook. Tests make temp folders freely and none is left behind, whichever helper
 * made them and however the test ended.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const outer = process.env.TMPDIR;
const privateDir = mkdtempSync(join(tmpdir(), 'pp-vitest-'));
process.env.TMPDIR = privateDir;

// Registered before the file's own hooks, so (hooks run as a stack) it runs after them.
afterAll(() => {
  if (outer === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = outer;
  rmSync(privateDir, { recursive: true, force: true, maxRetries: 3 });
});
