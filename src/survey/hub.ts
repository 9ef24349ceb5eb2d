import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataError, StageFailure, UserError } from '../core/errors.js';
import { fsyncDir } from '../core/atomic.js';

/**
 * One file of a Hugging Face *dataset* repository, downloaded once into a local cache.
 *
 * URL: `${HF_ENDPOINT ?? https://huggingface.co}/datasets/<repo>/resolve/<revision>/<file>`
 * (the hub's documented resolve endpoint; redirects to the CDN are followed). HF_TOKEN, when
 * set, is sent as a bearer token. Cache: `<cacheDir>/datasets--<owner>--<name>/<revision>/<file>`
 * under `$HF_HOME/polypersona` (default ~/.cache/huggingface/polypersona), written to a temp file
 * and renamed, so an interrupted download never looks complete. A 40-hex revision is a pinned
 * commit and its cache entry is immutable; a branch name is resolved by the hub at download time
 * and the commit it pointed to (header x-repo-commit) is returned for provenance. With
 * HF_HUB_OFFLINE=1 only the cache is used.
 */
export interface HubFileRequest {
  repo: string;
  file: string;
  revision: string;
  /** Expected sha256 (hex) of the file; checked on every use, cached or fresh. */
  sha256?: string | null;
  cacheDir?: string | null;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface HubFile {
  path: string;
  sha256: string;
  url: string;
  /** The commit the revision resolved to, when the hub said (fresh downloads only). */
  commit?: string;
  fromCache: boolean;
  pinned: boolean;
}

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HF_HOME && env.HF_HOME !== '' ? env.HF_HOME : join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
  return join(home, 'polypersona');
}

export async function fetchHubDatasetFile(req: HubFileRequest): Promise<HubFile> {
  const env = req.env ?? process.env;
  if (!/^[\w.-]+\/[\w.-]+$/.test(req.repo)) throw new UserError('hub', `dataset repo must look like "owner/name", got "${req.repo}"`);
  if (req.file.split('/').some((p) => p === '..' || p === '')) throw new UserError('hub', `bad file path in repo: "${req.file}"`);
  const endpoint = (env.HF_ENDPOINT && env.HF_ENDPOINT !== '' ? env.HF_ENDPOINT : 'https://huggingface.co').replace(/\/+$/, '');
  const url = `${endpoint}/datasets/${req.repo}/resolve/${encodeURIComponent(req.revision)}/${req.file.split('/').map(encodeURIComponent).join('/')}`;
  const pinned = /^[0-9a-f]{40}$/.test(req.revision);
  const path = join(req.cacheDir ?? hubCacheDir(env), `datasets--${req.repo.replace('/', '--')}`, req.revision, req.file);
  if (existsSync(path)) {
    const sha256 = sha256File(path);
    checkDigest(req, sha256, path);
    return { path, sha256, url, fromCache: true, pinned };
  }
  if (env.HF_HUB_OFFLINE && !['', '0', 'false'].includes(env.HF_HUB_OFFLINE.toLowerCase())) {
    throw new UserError('hub-offline', `HF_HUB_OFFLINE is set and ${req.repo}@${req.revision}/${req.file} is not in the cache (${path})`);
  }
  const headers: Record<string, string> = { 'user-agent': 'polypersona' };
  if (env.HF_TOKEN) headers.authorization = `Bearer ${env.HF_TOKEN}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: 'follow', signal: req.signal });
  } catch (err) {
    throw new StageFailure('hub-download', `cannot reach ${url}: ${(err as Error).message}`, { cause: err });
  }
  if (!response.ok || !response.body) {
    const hint = response.status === 401 || response.status === 403 ? ' (gated or private: set HF_TOKEN)' : response.status === 404 ? ' (check repo, revision and file)' : '';
    throw new StageFailure('hub-download', `download of ${url} failed: HTTP ${response.status}${hint}`);
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
  const hash = createHash('sha256');
  try {
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => hash.update(chunk));
    await pipeline(body, createWriteStream(tmp), { signal: req.signal });
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new StageFailure('hub-download', `download of ${url} was interrupted: ${(err as Error).message}`, { cause: err });
  }
  const sha256 = hash.digest('hex');
  try {
    checkDigest(req, sha256, url);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
  const commit = response.headers.get('x-repo-commit') ?? undefined;
  return { path, sha256, url, commit, fromCache: false, pinned };
}

function checkDigest(req: HubFileRequest, actual: string, where: string): void {
  if (req.sha256 && req.sha256.toLowerCase() !== actual) {
    throw new DataError('hub-digest', `${where}: sha256 ${actual} does not match the pinned sha256 ${req.sha256}`, { location: { file: where } });
  }
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
