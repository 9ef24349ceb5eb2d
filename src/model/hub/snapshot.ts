import { join } from 'node:path';
import pLimit from 'p-limit';
import { UserError } from '../../core/errors.js';
import { downloadRepoFile, type DownloadedFile } from './download.js';
import { filterRepoFiles } from './patterns.js';
import { pinRevision } from './revision.js';
import { hubSettings, type HubSettings, type RepoType } from './settings.js';

/**
 * `snapshot_download`: pin a revision to its commit sha, pick files by allow/ignore patterns,
 * download each into the shared cache (resuming partial files) and return the snapshot folder
 * with every file's sha256. A branch or tag is recorded in `refs/<name>` so HF_HUB_OFFLINE runs
 * find the same commit again.
 */
/** Files at once when the settings name no other number. */
const DEFAULT_CONCURRENCY = 4;

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
  const { repoDir, sha, files: candidates } = await pinRevision(req.repo, repoType, revision, settings, req.signal);
  const wanted = new Set(filterRepoFiles(candidates.map((f) => f.path), req.allowPatterns, req.ignorePatterns));
  const selected = candidates.filter((f) => wanted.has(f.path));
  if (selected.length === 0) {
    throw new UserError('hub-no-files', `${req.repo}@${sha}: no file matches allow_patterns ${JSON.stringify(req.allowPatterns ?? [])} minus ignore_patterns ${JSON.stringify(req.ignorePatterns ?? [])} (repo has: ${candidates.slice(0, 20).map((f) => f.path).join(', ')})`);
  }
  const total = selected.every((f) => f.size !== undefined) ? selected.reduce((s, f) => s + f.size!, 0) : undefined;
  let done = 0;
  // Files download in parallel (huggingface_hub uses 8 workers); results keep the repo's order.
  const limit = pLimit(Math.max(1, settings.concurrency ?? DEFAULT_CONCURRENCY));
  // The first failure stops the other transfers (their .incomplete files stay for the next run).
  const stop = new AbortController();
  const signal = req.signal ? AbortSignal.any([req.signal, stop.signal]) : stop.signal;
  const files = await Promise.all(
    selected.map((file) =>
      limit(async () => {
        if (signal.aborted) throw signal.reason;
        let counted = 0;
        const got = await downloadRepoFile({
          repo: req.repo, repoType, sha, file, settings, signal, maxAttempts: req.maxAttempts,
          onBytes: (n) => { counted += n; done += n; req.onProgress?.(done, total); },
        }).catch((err: unknown) => {
          if (!stop.signal.aborted) stop.abort(err);
          throw err;
        });
        // A cached or resumed file counts in full toward the total.
        done += (file.size ?? got.size) - counted;
        req.onProgress?.(done, total);
        return got;
      }),
    ),
  );
  return { repo: req.repo, repoType, revision, sha, dir: join(repoDir, 'snapshots', sha), files, bytesFetched: files.reduce((s, f) => s + f.bytesFetched, 0) };
}
