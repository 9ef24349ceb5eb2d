/**
 * Content digests: one file (sha256), a directory tree (Merkle digest), and a stage's declared
 * file deps. All digests are lowercase sha256 hex.
 *
 * Tree digest construction (version 1; a reviewer can reproduce it with coreutils):
 *   1. List every regular file under the directory, recursively. Paths are relative to the
 *      directory, posix separators, no leading "./".
 *   2. Sort by path in UTF-8 byte order (= Unicode code point order; `LC_ALL=C sort`).
 *   3. For each file write the line `<sha256 hex> <size in bytes> <path>\n`.
 *   4. digest = sha256 of the concatenated lines. An empty directory has the digest of the empty
 *      string (e3b0c442…b855). Empty subdirectories are not represented: only files count.
 *   Symlinks, sockets, FIFOs and devices are rejected (a symlink's target is not content we own),
 *   and so are names containing a newline (they would make the line format ambiguous).
 *
 *   Shell equivalent:
 *     cd DIR && find . -type f -printf '%P\n' | LC_ALL=C sort | while IFS= read -r p; do
 *       printf '%s %s %s\n' "$(sha256sum < "$p" | cut -c1-64)" "$(stat -c %s "$p")" "$p"; done | sha256sum
 *
 * Throughput: hashing runs on the main thread through Node's OpenSSL sha256 (SHA-NI where the CPU
 * has it), with synchronous 4 MiB reads that yield to the event loop every few ms (see hashFile).
 * See bench/engine.ts for figures against sha256sum and openssl.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../../core/errors.js';
import { packageRoot } from '../../core/paths.js';

export interface TreeFile {
  /** Posix path relative to the tree root. */
  path: string;
  size: number;
  sha256: string;
}

export interface TreeDigest {
  digest: string;
  /** Sorted by path in UTF-8 byte order. */
  files: TreeFile[];
}

/** sha256 of the empty string: the digest of an empty tree. */
export const EMPTY_TREE_DIGEST = createHash('sha256').digest('hex');

/** Read size: large enough that syscall overhead vanishes, small enough to yield often. */
const CHUNK_BYTES = 4 << 20;
/** Longest stretch of synchronous hashing before yielding to the event loop (ms). */
const MAX_BLOCK_MS = 8;

/** One read buffer for the process: each read is hashed before any await, so sharing is safe. */
let chunk: Buffer | undefined;
let lastYield = performance.now();

/** Lets timers, signals and progress rendering run between chunks of synchronous hashing. */
async function maybeYield(): Promise<void> {
  if (performance.now() - lastYield < MAX_BLOCK_MS) return;
  await new Promise<void>((r) => setImmediate(r));
  lastYield = performance.now();
}

/** sha256 hex of one file's content, read in large chunks. */
export async function digestFile(path: string): Promise<string> {
  return (await hashFile(path)).sha256;
}

/**
 * Hashes one file; `size` is the number of bytes actually hashed. Reads are synchronous, in
 * 4 MiB chunks, yielding to the event loop every few ms: measured on the 2-core dev box, the
 * thread-pool round trips of async reads (open/read/close each a hop) made a tree of 4,000 small
 * files 4× slower than sync reads, and double-buffered async reads of big files gained nothing.
 */
async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    chunk ??= Buffer.allocUnsafe(CHUNK_BYTES);
    let total = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, CHUNK_BYTES, total);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
      total += n;
      await maybeYield();
    }
    return { sha256: hash.digest('hex'), size: total };
  } finally {
    closeSync(fd);
  }
}

/** Raised for a symlink, socket, FIFO or device inside a tree, or an unencodable file name. */
export class UnsupportedFileError extends UserError {
  constructor(path: string, what: string) {
    super('unsupported-file', `${path}: ${what}; artifact trees and deps may hold only regular files and directories`, {
      location: { file: path },
    });
  }
}

interface ListedFile {
  rel: string;
  abs: string;
}

/** Lists regular files under `root` (recursively), rejecting anything else. */
async function listTree(root: string): Promise<ListedFile[]> {
  const out: ListedFile[] = [];
  const walk = async (absDir: string, relDir: string): Promise<void> => {
    const entries = await readdir(absDir, { withFileTypes: true });
    for (const e of entries) {
      const abs = join(absDir, e.name);
      const rel = relDir === '' ? e.name : `${relDir}/${e.name}`;
      if (e.name.includes('\n')) throw new UnsupportedFileError(abs, 'a file name contains a newline');
      if (e.isDirectory()) await walk(abs, rel);
      else if (e.isFile()) out.push({ rel, abs });
      else if (e.isSymbolicLink()) throw new UnsupportedFileError(abs, 'is a symbolic link');
      else throw new UnsupportedFileError(abs, 'is not a regular file or directory (socket, FIFO or device)');
    }
  };
  await walk(root, '');
  out.sort((a, b) => compareUtf8(a.rel, b.rel));
  return out;
}

/** Orders strings by their UTF-8 bytes (= code point order), unlike `<` which uses UTF-16 units. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The Merkle digest of a directory tree (construction in the file comment). */
export async function digestTree(dir: string): Promise<TreeDigest> {
  const st = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new UserError('missing-path', `${dir}: no such directory`, { location: { file: dir } });
    throw err;
  });
  if (!st.isDirectory()) throw new UserError('not-a-directory', `${dir}: not a directory`, { location: { file: dir } });
  const listed = await listTree(dir);
  const files: TreeFile[] = [];
  for (const f of listed) {
    const { sha256, size } = await hashFile(f.abs);
    files.push({ path: f.rel, size, sha256 });
  }
  return { digest: treeDigestOf(files), files };
}

/** The tree digest of an already sorted file list (step 3–4 of the construction). */
export function treeDigestOf(files: readonly TreeFile[]): string {
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.sha256} ${f.size} ${f.path}\n`, 'utf8');
  return hash.digest('hex');
}

/**
 * Digests declared deps: a file → its sha256, a directory → its tree digest, each under the name
 * depName gives it. A missing path is a UserError naming it.
 */
export async function digestDeps(paths: string[], baseDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    const abs = resolve(baseDir, p);
    const name = depName(abs, baseDir);
    let st;
    try {
      st = await stat(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new UserError('missing-dep', `dep ${p} does not exist (looked for ${abs})`, { location: { file: abs } });
      }
      throw err;
    }
    if (st.isDirectory()) out[name] = (await digestTree(abs)).digest;
    else if (st.isFile()) out[name] = await digestFile(abs);
    else throw new UnsupportedFileError(abs, 'dep is not a regular file or directory');
  }
  return out;
}

/**
 * The name a dep is recorded under in keys and lock files. It never holds where the project or
 * polypersona happens to be installed, so the same checkout gives the same keys in any folder (a
 * committed lock file verifies elsewhere; a shared cache serves several checkouts):
 * - inside the pipeline's folder: the posix path relative to it (`data/input.txt`);
 * - inside polypersona's own package (the built-in question bank): `polypersona:question-bank`;
 * - elsewhere: the posix path relative to the pipeline's folder (`../data/answers.jsonl`).
 */
export function depName(absPath: string, baseDir: string): string {
  const rel = relative(resolve(baseDir), absPath);
  if (rel === '') return '.';
  const toPosix = (p: string): string => (sep === '/' ? p : p.split(sep).join('/'));
  const inside = rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
  if (inside) return toPosix(rel);
  const fromPackage = relative(packageRoot(), absPath);
  if (fromPackage !== '' && fromPackage !== '..' && !fromPackage.startsWith(`..${sep}`) && !isAbsolute(fromPackage)) {
    return `polypersona:${toPosix(fromPackage)}`;
  }
  // On Windows a path on another drive has no relative form; it stays absolute there.
  return toPosix(rel);
}
