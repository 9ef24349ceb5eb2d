import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Hugging Face hub, speaking the parts of its HTTP API the client uses:
 * `/api/models/<repo>/revision/<rev>?blobs=true`, `/<repo>/resolve/<sha>/<path>` (and for dataset
 * repos `/api/datasets/...`, `/datasets/<repo>/resolve/...`; regular files
 * served directly with a git-sha1 ETag; LFS files as a 302 to a CDN — a second server, another
 * origin, which like S3 refuses requests that carry an Authorization header — with X-Linked-Etag
 * = sha256 and X-Linked-Size), byte ranges, bearer tokens for private repos, and — for tests of
 * resume — transfers that are cut after half the bytes.
 */
export interface FakeRepo {
  /** Default 'model'; a dataset repo answers only under the /datasets/ routes. */
  type?: 'model' | 'dataset';
  sha: string;
  files: Record<string, Buffer>;
  /** Paths stored in LFS (sha256 etag, served through the CDN redirect). */
  lfs?: string[];
  /** Requires `Authorization: Bearer <token>`. */
  token?: string;
  /** Without the token, answer as a gated repo does (403, X-Error-Code: GatedRepo) instead of 401. */
  gated?: boolean;
  /** Serve this content instead of the real one for these paths (a corrupt mirror). */
  corrupt?: Record<string, Buffer>;
}

export interface FakeHub {
  endpoint: string;
  requests: Array<{ method: string; url: string; range?: string; auth?: string }>;
  /** Bytes of file bodies sent, by repo path. */
  bytesSent: Map<string, number>;
  /** Paths whose next full-body transfer is cut after half the bytes (consumed when used). */
  cutNext: Set<string>;
  /** Requests (either server) whose path matches answer `status` (with Retry-After when given), `times` times. */
  failures: Array<{ match: RegExp; status: number; times: number; retryAfter?: string }>;
  /** With a number: file bodies wait until that many are requested at once (or 2 s pass), to show parallel downloads. */
  gate?: number;
  /** Most file bodies in flight at once. */
  maxInFlight: number;
  close(): Promise<void>;
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
export const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

export async function startFakeHub(repos: Record<string, FakeRepo>): Promise<FakeHub> {
  const requests: FakeHub['requests'] = [];
  const bytesSent = new Map<string, number>();
  const cutNext = new Set<string>();
  const failures: FakeHub['failures'] = [];
  let inFlight = 0;
  let releaseGate: (() => void) | undefined;
  let gateOpen: Promise<void> | undefined;
  /** Fails the request when a planted failure matches; true when it answered. */
  const planted = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = new URL(req.url!, 'http://x').pathname;
    const f = failures.find((x) => x.times > 0 && x.match.test(path));
    if (!f) return false;
    f.times--;
    send(res, f.status, f.retryAfter ? { 'retry-after': f.retryAfter } : {}, `{"error":"planted ${f.status}"}`);
    return true;
  };
  const byLfsSha = new Map<string, { repo: string; path: string }>();
  for (const [id, r] of Object.entries(repos)) for (const p of r.lfs ?? []) byLfsSha.set(sha256(r.files[p]!), { repo: id, path: p });

  let cdnEndpoint = '';
  const hub: FakeHub = { endpoint: '', requests, bytesSent, cutNext, failures, maxInFlight: 0, close: async () => undefined };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, 'http://x');
    requests.push({ method: req.method!, url: url.pathname + url.search, range: req.headers.range, auth: req.headers.authorization });
    if (planted(req, res)) return;
    if (url.pathname.startsWith('/cdn/')) return send(res, 404, {}, 'the CDN is elsewhere');
    const deny = (repo: FakeRepo) => repo.token !== undefined && req.headers.authorization !== `Bearer ${repo.token}`;
    // The same id under the other repo type is another repo, absent here.
    const find = (kind: string | undefined, id: string) => (repos[id] && `${repos[id].type ?? 'model'}s` === (kind ?? 'models') ? repos[id] : undefined);
    let m = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const [, kind, id, revParam] = m as unknown as [string, string, string, string];
      const repo = find(kind, id);
      if (!repo) return send(res, 404, { 'x-error-code': 'RepoNotFound' }, '{"error":"Repository not found"}');
      if (deny(repo) && repo.gated) return send(res, 403, { 'x-error-code': 'GatedRepo' }, '{"error":"Access to model is restricted"}');
      if (deny(repo)) return send(res, 401, {}, '{"error":"Invalid credentials in Authorization header"}');
      const rev = decodeURIComponent(revParam);
      if (rev !== 'main' && rev !== repo.sha) return send(res, 404, { 'x-error-code': 'RevisionNotFound' }, '{"error":"Invalid rev id"}');
      const siblings = Object.entries(repo.files).map(([rfilename, b]) => ({
        rfilename, size: b.length, blobId: gitSha1(b), ...(repo.lfs?.includes(rfilename) ? { lfs: { sha256: sha256(b), size: b.length, pointerSize: 130 } } : {}),
      }));
      return send(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ id, sha: repo.sha, siblings }));
    }
    m = /^\/(?:(datasets)\/)?([^/]+\/[^/]+)\/resolve\/([0-9a-f]{40})\/(.+)$/.exec(url.pathname);
    if (m) {
      const [, kind, id, sha, rawPath] = m as unknown as [string, string | undefined, string, string, string];
      const repo = find(kind, id);
      const path = rawPath.split('/').map(decodeURIComponent).join('/');
      if (!repo) return send(res, 404, { 'x-error-code': 'RepoNotFound' }, '');
      if (deny(repo)) return send(res, 401, {}, '');
      const body = repo.files[path];
      if (sha !== repo.sha || !body) return send(res, 404, { 'x-error-code': 'EntryNotFound' }, '');
      if (repo.lfs?.includes(path)) {
        return send(res, 302, { location: `${cdnEndpoint}/cdn/${sha256(body)}`, 'x-linked-etag': `"${sha256(body)}"`, 'x-linked-size': String(body.length), 'x-repo-commit': repo.sha }, '');
      }
      return serveBody(req, res, repo.corrupt?.[path] ?? body, path, { etag: `"${gitSha1(body)}"`, 'x-repo-commit': repo.sha });
    }
    send(res, 404, {}, 'no route');
  });

  const cdn = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url!, 'http://x');
    requests.push({ method: req.method!, url: url.pathname + url.search, range: req.headers.range, auth: req.headers.authorization });
    if (planted(req, res)) return;
    if (req.headers.authorization) return send(res, 400, {}, 'Only one auth mechanism allowed');
    const m = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (m && byLfsSha.has(m[1]!)) {
      const { repo, path } = byLfsSha.get(m[1]!)!;
      return serveBody(req, res, repos[repo]!.corrupt?.[path] ?? repos[repo]!.files[path]!, path, { etag: `"${m[1]}"` });
    }
    send(res, 404, {}, 'no route');
  });

  function serveBody(req: IncomingMessage, res: ServerResponse, body: Buffer, path: string, headers: Record<string, string>): void {
    if (req.method === 'GET' && hub.gate !== undefined) {
      inFlight++;
      hub.maxInFlight = Math.max(hub.maxInFlight, inFlight);
      gateOpen ??= new Promise<void>((resolve) => {
        releaseGate = resolve;
        setTimeout(resolve, 2000).unref();
      });
      if (inFlight >= hub.gate) releaseGate?.();
      void gateOpen.then(() => {
        inFlight--;
        serveBodyNow(req, res, body, path, headers);
      });
      return;
    }
    serveBodyNow(req, res, body, path, headers);
  }

  function serveBodyNow(req: IncomingMessage, res: ServerResponse, body: Buffer, path: string, headers: Record<string, string>): void {
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= body.length) return send(res, 416, { 'content-range': `bytes */${body.length}` }, '');
    }
    const part = body.subarray(start);
    res.writeHead(range ? 206 : 200, {
      ...headers, 'accept-ranges': 'bytes', 'content-length': String(part.length),
      ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    if (cutNext.has(path) && part.length > 1) {
      cutNext.delete(path);
      const half = part.subarray(0, Math.floor(part.length / 2));
      bytesSent.set(path, (bytesSent.get(path) ?? 0) + half.length);
      res.write(half, () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    bytesSent.set(path, (bytesSent.get(path) ?? 0) + part.length);
    res.end(part);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  cdnEndpoint = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  const closeServer = (s: typeof server) => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); });
  Object.assign(hub, {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => { await closeServer(server); await closeServer(cdn); },
  });
  return hub;
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}
