import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import { depName, digestDeps, digestFile, digestTree, EMPTY_TREE_DIGEST } from '../../../src/engine/store/index.js';
import { Prng } from '../../../src/core/prng.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pp-digest-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function sha(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Seeded bytes, so failures reproduce. */
function bytes(n: number, seed: number): Buffer {
  const rng = new Prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.nextU32() & 0xff;
  return b;
}

function write(rel: string, data: string | Buffer): void {
  const p = join(dir, 'tree', rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, data);
}

function hasCoreutils(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v sha256sum && command -v find && stat -c %s /'], { stdio: 'ignore' });
    return process.platform === 'linux';
  } catch {
    return false;
  }
}

describe('digestFile', () => {
  it('matches sha256 for empty, small, chunk-boundary and multi-chunk files', async () => {
    // 4 MiB is the read chunk; 1 MiB the small-file limit: test both sides of each.
    for (const n of [0, 1, 1000, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 4 << 20, (4 << 20) + 7, 9 << 20]) {
      // A seeded pattern of prime length, repeated: chunk boundaries never line up with it.
      const data = n === 0 ? Buffer.alloc(0) : Buffer.alloc(n, bytes(65521, n));
      const p = join(dir, `f${n}`);
      writeFileSync(p, data);
      expect(await digestFile(p), `size ${n}`).toBe(sha(data));
    }
  });

  it('names a missing file', async () => {
    await expect(digestFile(join(dir, 'nope.bin'))).rejects.toThrow(/nope\.bin/);
  });
});

describe('digestTree', () => {
  it('has a defined digest for an empty directory (sha256 of nothing)', async () => {
    mkdirSync(join(dir, 'tree', 'empty-sub'), { recursive: true });
    const t = await digestTree(join(dir, 'tree'));
    expect(t).toEqual({ digest: EMPTY_TREE_DIGEST, files: [] });
    expect(EMPTY_TREE_DIGEST).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('follows the documented construction: sorted "<sha256> <size> <path>\\n" lines', async () => {
    write('b.txt', 'bee');
    write('a/z.txt', 'zed');
    write('a/b/c.txt', '');
    write('a.txt', 'ay');
    const t = await digestTree(join(dir, 'tree'));
    // UTF-8 byte order: "a.txt" < "a/…" because '.' (0x2e) < '/' (0x2f).
    expect(t.files.map((f) => f.path)).toEqual(['a.txt', 'a/b/c.txt', 'a/z.txt', 'b.txt']);
    const lines = [
      `${sha('ay')} 2 a.txt\n`,
      `${sha('')} 0 a/b/c.txt\n`,
      `${sha('zed')} 3 a/z.txt\n`,
      `${sha('bee')} 3 b.txt\n`,
    ].join('');
    expect(t.digest).toBe(sha(lines));
    expect(t.files[2]).toEqual({ path: 'a/z.txt', size: 3, sha256: sha('zed') });
  });

  it('sorts by UTF-8 bytes, not UTF-16 units', async () => {
    write('\u{1F600}.txt', 'emoji'); // UTF-16 starts 0xD83D, UTF-8 0xF0
    write('\uFF21.txt', 'fullwidth A'); // UTF-16 0xFF21 > 0xD83D, UTF-8 0xEF < 0xF0
    const t = await digestTree(join(dir, 'tree'));
    expect(t.files.map((f) => f.path)).toEqual(['\uFF21.txt', '\u{1F600}.txt']);
  });

  it.skipIf(!hasCoreutils())('agrees with the shell recipe in digest.ts (find | sort | sha256sum)', async () => {
    write('x/big.bin', bytes(3 << 20, 1));
    write('x/y/small.bin', bytes(777, 2));
    write('name with spaces.txt', 'spaces');
    write('z', '');
    for (let i = 0; i < 30; i++) write(`many/${i}.txt`, `file ${i}`);
    const recipe =
      `cd "$1" && find . -type f -printf '%P\\n' | LC_ALL=C sort | while IFS= read -r p; do ` +
      `printf '%s %s %s\\n' "$(sha256sum < "$p" | cut -c1-64)" "$(stat -c %s "$p")" "$p"; done | sha256sum | cut -c1-64`;
    const expected = execFileSync('sh', ['-c', recipe, 'sh', join(dir, 'tree')], { encoding: 'utf8' }).trim();
    expect((await digestTree(join(dir, 'tree'))).digest).toBe(expected);
  });

  it('is stable and sensitive to content, path and moves', async () => {
    write('a/one.txt', 'one');
    write('a/two.txt', 'two');
    write('b/three.bin', bytes(5000, 3));
    const root = join(dir, 'tree');
    const d0 = (await digestTree(root)).digest;
    expect((await digestTree(root)).digest).toBe(d0);

    write('a/one.txt', 'One'); // same size, other content
    const d1 = (await digestTree(root)).digest;
    expect(d1).not.toBe(d0);
    write('a/one.txt', 'one');
    expect((await digestTree(root)).digest).toBe(d0);

    renameSync(join(root, 'a/two.txt'), join(root, 'b/two.txt')); // a move between folders
    const d2 = (await digestTree(root)).digest;
    expect(d2).not.toBe(d0);
    renameSync(join(root, 'b/two.txt'), join(root, 'a/two.txt'));
    expect((await digestTree(root)).digest).toBe(d0);

    renameSync(join(root, 'a/two.txt'), join(root, 'a/2.txt')); // a rename
    expect((await digestTree(root)).digest).not.toBe(d0);
    renameSync(join(root, 'a/2.txt'), join(root, 'a/two.txt'));

    // swapping two files' contents keeps the multiset of hashes but not the digest
    write('a/one.txt', 'two');
    write('a/two.txt', 'one');
    expect((await digestTree(root)).digest).not.toBe(d0);
  });

  it('does not depend on where the tree lives', async () => {
    write('k/v.txt', 'value');
    const d = (await digestTree(join(dir, 'tree'))).digest;
    renameSync(join(dir, 'tree'), join(dir, 'elsewhere'));
    expect((await digestTree(join(dir, 'elsewhere'))).digest).toBe(d);
  });

  it('rejects symlinks with an error naming the link', async () => {
    write('real.txt', 'x');
    symlinkSync(join(dir, 'tree', 'real.txt'), join(dir, 'tree', 'link.txt'));
    const err = await digestTree(join(dir, 'tree')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('unsupported-file');
    expect((err as Error).message).toMatch(/link\.txt: is a symbolic link/);
  });

  it('rejects FIFOs', async () => {
    mkdirSync(join(dir, 'tree'));
    try {
      execFileSync('mkfifo', [join(dir, 'tree', 'pipe')]);
    } catch {
      return; // no mkfifo on this platform
    }
    await expect(digestTree(join(dir, 'tree'))).rejects.toThrow(/pipe: is not a regular file or directory/);
  });

  it('rejects names with a newline', async () => {
    write('bad\nname', 'x');
    await expect(digestTree(join(dir, 'tree'))).rejects.toThrow(/contains a newline/);
  });

  it('names a missing directory or a file given as a tree', async () => {
    await expect(digestTree(join(dir, 'absent'))).rejects.toThrow(/absent: no such directory/);
    writeFileSync(join(dir, 'plain'), 'x');
    await expect(digestTree(join(dir, 'plain'))).rejects.toThrow(/plain: not a directory/);
  });
});

describe('digestDeps', () => {
  it('digests files and folders, keyed by posix paths relative to the base dir (outside ones too)', async () => {
    write('tools/extra.py', 'print(1)');
    write('question-bank/a.yaml', 'a: 1');
    write('question-bank/b.yaml', 'b: 2');
    const outside = join(dir, 'outside.txt');
    writeFileSync(outside, 'out');
    const base = join(dir, 'tree');
    const deps = await digestDeps(['tools/extra.py', './question-bank', outside], base);
    expect(deps).toEqual({
      'tools/extra.py': sha('print(1)'),
      'question-bank': (await digestTree(join(base, 'question-bank'))).digest,
      '../outside.txt': sha('out'),
    });
  });

  it('records no install location: the same tree in another folder gives the same names', async () => {
    write('a/tree/data.txt', 'd');
    write('a/common.txt', 's');
    write('b/tree/data.txt', 'd');
    write('b/common.txt', 's');
    const at = (root: string) => digestDeps(['data.txt', '../common.txt'], join(dir, 'tree', root, 'tree'));
    expect(await at('a')).toEqual(await at('b'));
  });

  it("names polypersona's own assets (the built-in question bank) by a location-free name", async () => {
    const { packageRoot } = await import('../../../src/core/paths.js');
    const bank = join(packageRoot(), 'question-bank');
    const deps = await digestDeps([bank], join(dir, 'tree'));
    expect(Object.keys(deps)).toEqual(['polypersona:question-bank']);
    expect(depName(bank, '/somewhere/else')).toBe('polypersona:question-bank');
  });

  it('names a missing dep', async () => {
    mkdirSync(join(dir, 'tree'));
    const err = await digestDeps(['tools/missing.py'], join(dir, 'tree')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('missing-dep');
    expect((err as Error).message).toMatch(/dep tools\/missing\.py does not exist/);
  });
});
