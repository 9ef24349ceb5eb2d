import { closeSync, fsyncSync, openSync, renameSync, writeSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file so that a reader (or a crash) sees either the old content or the whole new
 * content, never a prefix: write to a sibling temp file, fsync it, rename over the target,
 * fsync the directory.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeChunksAtomic(path, [typeof data === 'string' ? Buffer.from(data, 'utf8') : data]);
}

/** Largest single write(2): Linux writes at most ~2 GiB per call. */
const MAX_WRITE_BYTES = 1 << 30;

/**
 * writeFileAtomic for content produced piece by piece (safetensors shards, ONNX external data):
 * `chunks` is iterated once, so a generator keeps only one chunk in memory at a time.
 */
export function writeChunksAtomic(path: string, chunks: Iterable<Uint8Array>): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    for (const chunk of chunks) {
      let off = 0;
      while (off < chunk.byteLength) off += writeSync(fd, chunk, off, Math.min(chunk.byteLength - off, MAX_WRITE_BYTES));
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dir);
}

/** fsync a directory so a rename inside it is durable. Some filesystems refuse; that is not fatal. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // EISDIR/EINVAL on some platforms: directory fsync unsupported; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
