/** Hugging Face hub downloads into the huggingface_hub cache layout (see snapshot.ts, file.ts, download.ts). */
export { checkRepoId, fetchRepoRevision, type RepoFile, type RepoRevision } from './api.js';
export { downloadRepoFile, resolveUrl, sha256OfFile, type DownloadedFile } from './download.js';
export { hubFileDownload, type FileRequest, type HubFile } from './file.js';
export { filterRepoFiles, globToRegExp } from './patterns.js';
export { isCommitSha, pinRevision, type PinnedRevision } from './revision.js';
export { hubSettings, repoFolderName, type HubSettings, type RepoType } from './settings.js';
export { snapshotDownload, type Snapshot, type SnapshotRequest } from './snapshot.js';
