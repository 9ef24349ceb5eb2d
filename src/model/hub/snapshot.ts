import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/atomic.js';
import { checkRepoId, fetchRepoRevision, type RepoFile } from './api.js';
import { downloadRepoFile, sha256OfFile, type DownloadedFile } from './download.js';
import { filterRepoFiles } from './patterns.js';
import { hubSettings, repoFolderName, type HubSettings, type RepoType } from './settings.js';

/**
 * `snapshot_download`: pin a revision to its commit sha, pick files by allow/ignore patterns,
 * download each into the shared cache (resuming partial files) and return the snapshot folder
 * with every file's sha256. A branch or tag is recorded in `refs/<name>` so HF_HUB_OFFLINE runs
 * find the same commit again.
 */
export interface SnapshotRequest {
  repo: string;
  /** Branch, tag or 40-hex commit sha (default `main`). */
  revision?: string;
  repoType?: RepoType;
  allowPatterns?: string[] | null;
  ignorePatterns?: string[] | null;
  /** Defaults from the environment (HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE). */
  settings?: HubSettings;
  signal?: AbortSignal;
  /** Called as bytes arrive: (bytes so far, total bytes of the selected files when known). */
  onProgress?: (done: number, total: number | undefined) => void;
  maxAttempts?: number;
}

export interface Snapshot {
  repo: string;
  repoType: RepoType;
  revision: string;
  sha: string;
  /** Absolute snapshot folder (`.../snapshots/<sha>`). */
  dir: string;
  files: DownloadedFile[];
  bytesFetched: number;
}

export async function snapshotDownload(req: SnapshotRequest): Promise<Snapshot> {
  const settings = req.settings ?? hubSettings();
  const repoType = req.repoType ?? 'model';
  const revision = req.revision ?? 'main';
  checkRepoId(req.repo);
  const repoDir = join(settings.cacheDir, repoFolderName(req.repo, repoType));
  let sha: string;
  let candidates: RepoFile[];
  if (settings.offline) {
    ({ sha, files: candidates } = offlineRevision(repoDir, req.repo, revision));
  } else {
    const info = await fetchRepoRevision(req.repo, revision, settings, { repoType, signal: req.signal });
    sha = info.sha;
    candidates = info.files;
    if (revision !== sha) {
      const ref = join(repoDir, 'refs', revision);
      if (!ref.startsWith(join(repoDir, 'refs'))) throw new UserError('hub-revision', `bad revision name "${revision}"`);
      mkdirSync(dirname(ref), { recursive: true });
      writeFileAtomic(ref, sha);
    }
  }
  const wanted = new Set(filterRepoFiles(candidates.map((f) => f.path), req.allowPatterns, req.ignorePatterns));
  const selected = candidates.filter((f) => wanted.has(f.path));
  if (selected.length === 0) {
    throw new UserError('hub-no-files', `${req.repo}@${sha}: no file matches allow_patterns ${JSON.stringify(req.allowPatterns ?? [])} minus ignore_patterns ${JSON.stringify(req.ignorePatterns ?? [])} (repo has: ${candidates.slice(0, 20).map((f) => f.path).join(', ')})`);
  }
  const total = selected.every((f) => f.size !== undefined) ? selected.reduce((s, f) => s + f.size!, 0) : undefined;
  let done = 0;
  const files: DownloadedFile[] = [];
  for (const file of selected) {
    if (req.signal?.aborted) throw req.signal.reason;
    const before = done;
    const got = await downloadRepoFile({
      repo: req.repo, repoType, sha, file, settings, signal: req.signal, maxAttempts: req.maxAttempts,
      onBytes: (n) => { done += n; req.onProgress?.(done, total); },
    });
    done = before + (file.size ?? got.size);
    req.onProgress?.(done, total);
    files.push(got);
  }
  return { repo: req.repo, repoType, revision, sha, dir: join(repoDir, 'snapshots', sha), files, bytesFetched: files.reduce((s, f) => s + f.bytesFetched, 0) };
}

/** HF_HUB_OFFLINE: the commit from refs/<revision> (or the sha itself) and the files its snapshot holds. */
function offlineRevision(repoDir: string, repo: string, revision: string): { sha: string; files: RepoFile[] } {
  let sha = revision;
  if (!/^[0-9a-f]{40}$/.test(revision)) {
    const ref = join(repoDir, 'refs', revision);
    if (!existsSync(ref)) throw new UserError('hub-offline', `HF_HUB_OFFLINE is set and ${repo}@${revision} is not in the cache (${ref} missing): download it once with network access`);
    sha = readFileSync(ref, 'utf8').trim();
  }
  const dir = join(repoDir, 'snapshots', sha);
  if (!existsSync(dir)) throw new UserError('hub-offline', `HF_HUB_OFFLINE is set and the snapshot ${dir} is not in the cache`);
  return { sha, files: walk(dir).map((path) => ({ path })) };
}

function walk(root: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(root, rel));
    else out.push(rel);
  }
  return out.sort();
}

export { sha256OfFile };
