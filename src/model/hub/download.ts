import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { copyFileSync, createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync, truncateSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DataError, StageFailure } from '../../core/errors.js';
import { fsyncDir } from '../../core/atomic.js';
import { authHeaders, hubFetch, hubFetchFollow, hubHttpError, type RepoFile } from './api.js';
import { repoFolderName, type HubSettings, type RepoType } from './settings.js';

/**
 * One file of a pinned commit into the huggingface_hub cache layout:
 *   <cache>/models--org--name/blobs/<etag>                 content, named by its etag
 *                                                            (sha256 for LFS files, git sha1 otherwise)
 *   <cache>/models--org--name/blobs/<etag>.incomplete      a partial download, resumed with Range
 *   <cache>/models--org--name/snapshots/<sha>/<path>       relative symlink to the blob
 * so Python's huggingface_hub and this code share one cache. A download is verified against the
 * size and sha256 the hub announced before it is renamed into place; a failed transfer keeps its
 * `.incomplete` prefix and the next attempt (in this call or a later run) asks only for the rest.
 */
export interface DownloadedFile {
  path: string;
  /** Absolute path of the snapshot entry. */
  localPath: string;
  size: number;
  sha256: string;
  fromCache: boolean;
  /** Bytes fetched over the network in this call. */
  bytesFetched: number;
}

export interface FileDownloadRequest {
  repo: string;
  repoType: RepoType;
  sha: string;
  file: RepoFile;
  settings: HubSettings;
  signal?: AbortSignal;
  /** Attempts per file; each resumes where the previous one stopped (default 4). */
  maxAttempts?: number;
  onBytes?: (bytes: number) => void;
}

export function resolveUrl(settings: HubSettings, repo: string, repoType: RepoType, sha: string, path: string): string {
  const prefix = repoType === 'dataset' ? 'datasets/' : '';
  return `${settings.endpoint}/${prefix}${repo}/resolve/${sha}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

export async function downloadRepoFile(req: FileDownloadRequest): Promise<DownloadedFile> {
  const { repo, repoType, sha, file, settings } = req;
  const repoDir = join(settings.cacheDir, repoFolderName(repo, repoType));
  const snapshotPath = join(repoDir, 'snapshots', sha, file.path);
  if (existsSync(snapshotPath)) {
    const size = statSync(snapshotPath).size;
    const sha256 = await sha256OfFile(snapshotPath);
    checkContent(file, size, sha256, snapshotPath);
    return { path: file.path, localPath: snapshotPath, size, sha256, fromCache: true, bytesFetched: 0 };
  }
  const url = resolveUrl(settings, repo, repoType, sha, file.path);
  const head = await headInfo(url, req);
  const expectedSize = file.size ?? head.size;
  const expectedSha = file.lfsSha256 ?? (head.etag && /^[0-9a-f]{64}$/.test(head.etag) ? head.etag : undefined);
  const blobName = head.etag ?? expectedSha;
  if (!blobName || !/^[\w.-]+$/.test(blobName)) throw new StageFailure('hub-download', `${url}: the hub sent no usable ETag for this file`);
  const blobPath = join(repoDir, 'blobs', blobName);
  let bytesFetched = 0;
  if (!existsSync(blobPath)) {
    const partial = `${blobPath}.incomplete`;
    mkdirSync(dirname(partial), { recursive: true });
    bytesFetched = await fetchWithResume(url, partial, expectedSize, req);
    const size = statSync(partial).size;
    const sha256 = await sha256OfFile(partial);
    try {
      checkContent({ ...file, size: expectedSize, lfsSha256: expectedSha }, size, sha256, url);
    } catch (err) {
      rmSync(partial, { force: true }); // a wrong prefix would be resumed forever
      throw err;
    }
    renameSync(partial, blobPath);
    fsyncDir(dirname(blobPath));
  }
  linkSnapshot(blobPath, snapshotPath);
  const size = statSync(snapshotPath).size;
  const sha256 = await sha256OfFile(snapshotPath);
  checkContent({ ...file, size: expectedSize, lfsSha256: expectedSha }, size, sha256, snapshotPath);
  return { path: file.path, localPath: snapshotPath, size, sha256, fromCache: bytesFetched === 0, bytesFetched };
}

/** HEAD without following redirects: LFS files answer 302 with X-Linked-Etag / X-Linked-Size. */
async function headInfo(url: string, req: FileDownloadRequest): Promise<{ etag?: string; size?: number }> {
  let response = await hubFetch(url, { method: 'HEAD', headers: authHeaders(req.settings), redirect: 'manual', signal: req.signal }, req.settings.retry);
  let etag = response.headers.get('x-linked-etag') ?? response.headers.get('etag');
  if (response.status >= 300 && response.status < 400 && !etag) {
    response = await hubFetchFollow(url, { method: 'HEAD', headers: authHeaders(req.settings), signal: req.signal }, req.settings.retry);
    etag = response.headers.get('etag');
  }
  if (response.status >= 400) throw await hubHttpError(response, url, req.settings, `file "${req.file.path}" of ${req.repo}@${req.sha}`);
  const sizeHeader = response.headers.get('x-linked-size') ?? (response.status < 300 ? response.headers.get('content-length') : null);
  const size = sizeHeader !== null && /^\d+$/.test(sizeHeader) ? Number(sizeHeader) : undefined;
  return { etag: etag ? etag.replace(/^W\//, '').replace(/"/g, '').toLowerCase() : undefined, size };
}

/** GETs `url` into `partial`, resuming from its current length; returns bytes received. */
async function fetchWithResume(url: string, partial: string, expectedSize: number | undefined, req: FileDownloadRequest): Promise<number> {
  const attempts = req.maxAttempts ?? 4;
  let received = 0;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let have = existsSync(partial) ? statSync(partial).size : 0;
    if (expectedSize !== undefined && have > expectedSize) {
      truncateSync(partial, 0);
      have = 0;
    }
    if (expectedSize !== undefined && have === expectedSize) return received;
    const headers: Record<string, string> = { ...authHeaders(req.settings), ...(have > 0 ? { range: `bytes=${have}-` } : {}) };
    const response = await hubFetchFollow(url, { headers, signal: req.signal }, req.settings.retry);
    if (response.status === 416 && have > 0) {
      truncateSync(partial, 0); // the prefix is not a prefix of this file
      continue;
    }
    if (!response.ok || !response.body) {
      // hubFetch already retried 429/5xx with backoff: this answer is final.
      throw await hubHttpError(response, url, req.settings, `file "${req.file.path}" of ${req.repo}@${req.sha}`);
    }
    const append = have > 0 && response.status === 206;
    try {
      await appendBody(response, partial, append, req, (n) => (received += n));
      if (expectedSize === undefined || statSync(partial).size >= expectedSize) return received;
      lastError = new StageFailure('hub-download', `connection closed after ${statSync(partial).size} of ${expectedSize} bytes`);
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      lastError = err;
    }
  }
  const have = existsSync(partial) ? statSync(partial).size : 0;
  throw new StageFailure('hub-download', `${url}: download failed after ${attempts} attempts (${have} bytes kept in ${partial}; the next run resumes): ${(lastError as Error)?.message ?? lastError}`, { cause: lastError });
}

/**
 * Writes the body into `partial` so that, when the connection drops, every byte received is in
 * the file and the next attempt's Range starts exactly there. fetch's body is a web stream, and
 * a web stream that errors drops the chunks still queued in it; so reading starts at once and a
 * read is always pending (each chunk goes to a queue in memory and the next read is issued),
 * while a separate chain writes the queue to disk. Under load the writes lag the reads; before,
 * a cut transfer often lost everything it had received and the resume started from byte 0.
 */
async function appendBody(response: Response, partial: string, append: boolean, req: FileDownloadRequest, onWritten: (bytes: number) => void): Promise<void> {
  // Reading starts before anything is awaited: opening the file is a trip to the thread pool,
  // during which a dropped connection would error the stream and drop what it had queued.
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const opened = open(partial, append ? 'a' : 'w');
  const queue: Buffer[] = [];
  let writing: Promise<void> = Promise.resolve();
  const drain = async (): Promise<void> => {
    const file = await opened;
    while (queue.length > 0) {
      const chunk = queue.shift()!;
      await file.write(chunk);
      onWritten(chunk.length);
      req.onBytes?.(chunk.length);
    }
  };
  let readError: unknown;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      queue.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      writing = writing.then(drain);
    }
  } catch (err) {
    readError = err;
  }
  try {
    await writing.then(drain);
  } finally {
    await (await opened).close();
  }
  if (readError !== undefined) throw readError;
}

function checkContent(file: RepoFile, size: number, sha256: string, where: string): void {
  if (file.size !== undefined && size !== file.size) {
    throw new DataError('hub-size', `${where}: "${file.path}" is ${size} bytes, the hub announced ${file.size}`, { location: { file: where } });
  }
  if (file.lfsSha256 !== undefined && sha256 !== file.lfsSha256) {
    throw new DataError('hub-digest', `${where}: "${file.path}" has sha256 ${sha256}, the hub announced ${file.lfsSha256}`, { location: { file: where } });
  }
}

function linkSnapshot(blobPath: string, snapshotPath: string): void {
  mkdirSync(dirname(snapshotPath), { recursive: true });
  rmSync(snapshotPath, { force: true });
  try {
    symlinkSync(relative(dirname(snapshotPath), blobPath), snapshotPath);
  } catch {
    copyFileSync(blobPath, snapshotPath); // filesystems without symlinks, as huggingface_hub does
  }
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
