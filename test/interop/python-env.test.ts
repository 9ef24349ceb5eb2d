/**
 * The interop venv's pure parts and its skip paths (part of `npm test`: no Python needed).
 * Making a real venv is exercised by `npm run test:interop` itself.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheRoot, ensurePythonEnv, readPins, satisfiesPin } from './python-env.js';

const scratch = mkdtempSync(join(tmpdir(), 'pp-python-env-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('interop python env', () => {
  it('reads name==version pins, comments and blank lines ignored, and refuses anything else', () => {
    expect(readPins('# c\ntorch==2.13.*\n\nTransformers==5.18.0  # pinned\n')).toEqual([{ name: 'torch', spec: '2.13.*' }, { name: 'transformers', spec: '5.18.0' }]);
    expect(() => readPins('torch>=2\n')).toThrow('"torch>=2" is not a name==version pin');
  });

  it('matches wildcard pins and local version labels as pip does', () => {
    expect(satisfiesPin('2.13.0+cpu', '2.13.*')).toBe(true);
    expect(satisfiesPin('2.13', '2.13.*')).toBe(true);
    expect(satisfiesPin('2.130.0', '2.13.*')).toBe(false);
    expect(satisfiesPin('5.18.0', '5.18.0')).toBe(true);
    expect(satisfiesPin('5.18.1', '5.18.0')).toBe(false);
  });

  it('keeps the venv under POLYPERSONA_INTEROP_CACHE, else XDG_CACHE_HOME, else ~/.cache', () => {
    expect(cacheRoot({ POLYPERSONA_INTEROP_CACHE: '/c' })).toBe('/c');
    expect(cacheRoot({ XDG_CACHE_HOME: '/x' })).toBe(join('/x', 'polypersona'));
  });

  it('skips with the reason when there is no Python', async () => {
    const env = await ensurePythonEnv({ ...process.env, POLYPERSONA_PYTHON: join(scratch, 'no-such-python'), POLYPERSONA_INTEROP_CACHE: scratch });
    expect(env).toEqual({ skip: expect.stringMatching(/^no usable Python \(.*no-such-python: .*\); set POLYPERSONA_PYTHON to a Python ≥ 3\.10 with the venv module$/) });
  });

  it('skips with the reason when Python is too old', async () => {
    const fake = join(scratch, 'python3.8');
    writeFileSync(fake, '#!/bin/sh\necho 3.8.10\necho /usr/bin/python3.8\n');
    chmodSync(fake, 0o755);
    const env = await ensurePythonEnv({ ...process.env, POLYPERSONA_PYTHON: fake, POLYPERSONA_INTEROP_CACHE: scratch });
    expect(env).toEqual({ skip: 'Python 3.8.10 at /usr/bin/python3.8 is too old (torch 2.13 needs ≥ 3.10); set POLYPERSONA_PYTHON' });
  });
});
