import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/atomic.js';
import { checkRepoId, fetchRepoRevision, type RepoFile } from './api.js';
import { repoFolderName, type HubSettings, type RepoType } from './settings.js';

/**
 * A revision pinned to its commit sha, with the files of that commit. Online the hub answers
 * (and a branch or tag is recorded in `refs/<name>` so HF_HUB_OFFLINE runs find the same commit
 * again); offline the commit comes from `refs/` (or is the sha itself) and the files are what
 * the cached snapshot holds (paths only: no sizes or sha256s).
 */
export interface PinnedRevision {
  /** `<cache>/<models|datasets>--org--name`. */
  repoDir: string;
  sha: string;
  files: RepoFile[];
}

export const isCommitSha = (revision: string): boolean => /^[0-9a-f]{40}$/.test(revision);

export async function pinRevision(repo: string, repoType: RepoType, revision: string, settings: HubSettings, signal?: AbortSignal): Promise<PinnedRevision> {
  checkRepoId(repo);
  const repoDir = join(settings.cacheDir, repoFolderName(repo, repoType));
  if (settings.offline) return { repoDir, ...offlineRevision(repoDir, repo, revision) };
  const info = await fetchRepoRevision(repo, revision, settings, { repoType, signal });
  if (revision !== info.sha) {
    const ref = join(repoDir, 'refs', revision);
    if (!ref.startsWith(join(repoDir, 'refs'))) throw new UserError('hub-revision', `bad revision name "${revision}"`);
    mkdirSync(dirname(ref), { recursive: true });
    writeFileAtomic(ref, info.sha);
  }
  return { repoDir, sha: info.sha, files: info.files };
}

function offlineRevision(repoDir: string, repo: string, revision: string): { sha: string; files: RepoFile[] } {
  let sha = revision;
  if (!isCommitSha(revision)) {
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
