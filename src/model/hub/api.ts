import { StageFailure, UserError } from '../../core/errors.js';
import type { HubSettings, RepoType } from './settings.js';
import { DEFAULT_RETRY, retryableStatus, retryDelay, sleepFor, type RetryPolicy } from './retry.js';

/**
 * The hub's revision endpoint: `GET {endpoint}/api/{models|datasets}/{repo}/revision/{rev}?blobs=true`
 * answers the commit sha a branch, tag or sha points to, and the repo's files (`siblings`) with
 * sizes and, for LFS files, their sha256.
 */
export interface RepoFile {
  /** Repo-relative path. */
  path: string;
  size?: number;
  /** sha256 (hex) of an LFS file's content; regular git files have none. */
  lfsSha256?: string;
}

export interface RepoRevision {
  repo: string;
  repoType: RepoType;
  revision: string;
  /** Commit sha (40 hex). */
  sha: string;
  files: RepoFile[];
}

const REPO_RE = /^[\w.-]+(\/[\w.-]+)?$/;

export function checkRepoId(repo: string): void {
  if (!REPO_RE.test(repo) || repo.includes('..') || repo.includes('--')) {
    throw new UserError('hub-repo', `"${repo}" is not a hub repo id (expected "org/name")`);
  }
}

export function authHeaders(settings: HubSettings): Record<string, string> {
  // identity: sizes and byte ranges must refer to the stored bytes, not a gzip of them.
  const h: Record<string, string> = { 'user-agent': 'polypersona (hub download)', 'accept-encoding': 'identity' };
  if (settings.token) h.authorization = `Bearer ${settings.token}`;
  return h;
}

export async function fetchRepoRevision(repo: string, revision: string, settings: HubSettings, options: { repoType?: RepoType; signal?: AbortSignal } = {}): Promise<RepoRevision> {
  checkRepoId(repo);
  const repoType = options.repoType ?? 'model';
  const url = `${settings.endpoint}/api/${repoType}s/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
  const response = await hubFetchFollow(url, { headers: authHeaders(settings), signal: options.signal }, settings.retry);
  if (!response.ok) throw await hubHttpError(response, url, settings, `${repoType} repo "${repo}" at revision "${revision}"`);
  let json: unknown;
  try {
    json = await response.json();
  } catch (err) {
    throw new StageFailure('hub-api', `${url}: answer is not JSON (${(err as Error).message})`, { cause: err });
  }
  const j = json as { sha?: unknown; siblings?: unknown };
  if (typeof j.sha !== 'string' || !/^[0-9a-f]{40}$/.test(j.sha) || !Array.isArray(j.siblings)) {
    throw new StageFailure('hub-api', `${url}: answer lacks a 40-hex "sha" or a "siblings" list`);
  }
  const files: RepoFile[] = [];
  for (const s of j.siblings as Array<Record<string, unknown>>) {
    if (typeof s?.rfilename !== 'string') throw new StageFailure('hub-api', `${url}: a sibling lacks "rfilename"`);
    checkRepoPath(s.rfilename, url);
    const lfs = s.lfs as { sha256?: unknown; size?: unknown } | undefined;
    files.push({
      path: s.rfilename,
      size: typeof s.size === 'number' ? s.size : typeof lfs?.size === 'number' ? lfs.size : undefined,
      lfsSha256: typeof lfs?.sha256 === 'string' ? lfs.sha256.toLowerCase() : undefined,
    });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { repo, repoType, revision, sha: j.sha, files };
}

/** A repo path must stay inside the snapshot folder. */
export function checkRepoPath(path: string, where: string): void {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new StageFailure('hub-api', `${where}: refusing file path "${path}" (must stay inside the repo)`);
  }
}

/**
 * Network errors worth another try: a connection that dropped or stalled. Others (no DNS,
 * refused, a blocked port) say the hub is not there; failing at once, with advice, beats waiting.
 */
const TRANSIENT = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * fetch with the hub's retry policy (retry.ts): a 429 or 5xx answer, or a dropped connection,
 * is tried again after a growing delay (or the server's Retry-After). The last answer is
 * returned as it is, for the caller to turn into an error.
 */
export async function hubFetch(url: string, init: RequestInit, policy: RetryPolicy = DEFAULT_RETRY): Promise<Response> {
  const sleep = sleepFor(policy);
  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      if ((err as Error).name === 'AbortError' || init.signal?.aborted) throw init.signal?.reason ?? err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const failure = new StageFailure('hub-network', `cannot reach ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message} (no network? set HF_ENDPOINT for a mirror, or HF_HUB_OFFLINE=1 to use the cache)`, { cause: err });
      if (attempt >= policy.attempts || !TRANSIENT.has(cause?.code ?? '')) throw failure;
      await sleep(retryDelay(policy, attempt, null), init.signal ?? undefined);
      continue;
    }
    if (!retryableStatus(response.status) || attempt >= policy.attempts) return response;
    await response.body?.cancel();
    await sleep(retryDelay(policy, attempt, response.headers.get('retry-after')), init.signal ?? undefined);
  }
}

/**
 * Follows redirects by hand so the bearer token goes only to the hub's own origin: LFS files
 * redirect to a CDN with a signed URL, which refuses (or would leak) an Authorization header.
 */
export async function hubFetchFollow(url: string, init: RequestInit & { headers: Record<string, string> }, policy: RetryPolicy = DEFAULT_RETRY, maxRedirects = 5): Promise<Response> {
  let current = url;
  let headers = init.headers;
  const origin = new URL(url).origin;
  for (let hop = 0; ; hop++) {
    const response = await hubFetch(current, { ...init, headers, redirect: 'manual' }, policy);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return response;
    if (hop >= maxRedirects) throw new StageFailure('hub-http', `${url}: more than ${maxRedirects} redirects`);
    await response.body?.cancel();
    current = new URL(location, current).toString();
    if (new URL(current).origin !== origin) {
      const { authorization: _dropped, ...rest } = headers;
      headers = rest;
    }
  }
}

/** A clear error for a failed hub request: 401/403 → token advice, 404 → what was not found. */
export async function hubHttpError(response: Response, url: string, settings: HubSettings, what: string): Promise<Error> {
  const code = response.headers.get('x-error-code');
  let detail = response.headers.get('x-error-message') ?? '';
  if (!detail) {
    try {
      const text = (await response.text()).slice(0, 300);
      detail = text.includes('"error"') ? String((JSON.parse(text) as { error?: unknown }).error ?? text) : text;
    } catch {
      detail = '';
    }
  }
  const suffix = detail ? `: ${detail}` : '';
  if (code === 'RepoNotFound' || code === 'RevisionNotFound' || code === 'EntryNotFound') {
    const which = { RepoNotFound: 'repository not found (check the id, or set HF_TOKEN if it is private)', RevisionNotFound: 'revision not found', EntryNotFound: 'file not found' }[code];
    return new UserError('hub-not-found', `${what}: ${which} (HTTP ${response.status} from ${url})${suffix}`);
  }
  if (code === 'GatedRepo') {
    return new UserError('hub-auth', `${what}: the model is gated — accept its terms on the model page, then set HF_TOKEN to a token of that account (HTTP ${response.status} from ${url})${suffix}`);
  }
  if (response.status === 401 || response.status === 403) {
    const hint = settings.token ? 'the token in HF_TOKEN has no access to it (gated: accept its terms on the hub)' : 'it is private or gated: set HF_TOKEN';
    return new UserError('hub-auth', `${what}: HTTP ${response.status} from ${url} — ${hint}${suffix}`);
  }
  if (response.status === 404) {
    return new UserError('hub-not-found', `${what}: not found (check the repo id and revision, or set HF_TOKEN if it is private) (HTTP 404 from ${url})${suffix}`);
  }
  return new StageFailure('hub-http', `${what}: HTTP ${response.status} from ${url}${suffix}`);
}
