import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, UserError } from '../../core/errors.js';
import { checkRepoId, checkRepoPath } from './api.js';
import { downloadRepoFile, resolveUrl, type DownloadedFile } from './download.js';
import { isCommitSha, pinRevision } from './revision.js';
import { hubSettings, repoFolderName, type HubSettings, type RepoType } from './settings.js';

/**
 * `hf_hub_download`: one file of a model or dataset repo at a revision, into the same cache
 * layout as snapshotDownload (`<cache>/datasets--org--name/snapshots/<sha>/<path>` → blob).
 * A 40-hex revision whose file is already cached is answered without the network, as
 * huggingface_hub does; a branch or tag is pinned through the hub (or `refs/` when offline).
 * `sha256`, when given, is the caller's pin of the content, checked on every call.
 */
export interface FileRequest {
  repo: string;
  repoType?: RepoType;
  /** Branch, tag or 40-hex commit sha (default `main`). */
  revision?: string;
  /** Repo-relative path of the file. */
  path: string;
  /** Expected sha256 (hex) of the content. */
  sha256?: string | null;
  /** Defaults from the environment (HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE). */
  settings?: HubSettings;
  signal?: AbortSignal;
  onBytes?: (bytes: number) => void;
  maxAttempts?: number;
}

export interface HubFile extends DownloadedFile {
  repo: string;
  repoType: RepoType;
  revision: string;
  /** The commit the revision pointed to. */
  sha: string;
  /** Whether `revision` was a commit sha (a branch or tag can move). */
  pinned: boolean;
  url: string;
}

export async function hubFileDownload(req: FileRequest): Promise<HubFile> {
  const settings = req.settings ?? hubSettings();
  const repoType = req.repoType ?? 'model';
  const revision = req.revision ?? 'main';
  checkRepoId(req.repo);
  checkRepoPath(req.path, `${req.repo}@${revision}`);
  const pinned = isCommitSha(revision);
  const where = `${req.repo}@${revision}/${req.path}`;
  let got: DownloadedFile;
  let sha = revision;
  const cached = join(settings.cacheDir, repoFolderName(req.repo, repoType), 'snapshots', revision, req.path);
  if (pinned && existsSync(cached)) {
    got = await downloadRepoFile({ repo: req.repo, repoType, sha, file: { path: req.path }, settings, signal: req.signal });
  } else {
    const rev = await pinRevision(req.repo, repoType, revision, settings, req.signal);
    sha = rev.sha;
    const file = rev.files.find((f) => f.path === req.path);
    if (!file) {
      const code = settings.offline ? 'hub-offline' : 'hub-not-found';
      const why = settings.offline ? `HF_HUB_OFFLINE is set and ${where} is not in the cache` : `${where}: no such file at commit ${sha}`;
      throw new UserError(code, `${why} (${settings.offline ? 'cached' : 'repo has'}: ${rev.files.slice(0, 20).map((f) => f.path).join(', ') || 'nothing'})`);
    }
    got = await downloadRepoFile({ repo: req.repo, repoType, sha, file, settings, signal: req.signal, onBytes: req.onBytes, maxAttempts: req.maxAttempts });
  }
  if (req.sha256 && req.sha256.toLowerCase() !== got.sha256) {
    throw new DataError('hub-digest', `${where} (${got.localPath}): sha256 ${got.sha256} does not match the pinned sha256 ${req.sha256.toLowerCase()}`, { location: { file: got.localPath } });
  }
  return { ...got, repo: req.repo, repoType, revision, sha, pinned, url: resolveUrl(settings, req.repo, repoType, sha, req.path) };
}
