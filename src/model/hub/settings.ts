import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RetryPolicy } from './retry.js';

/**
 * Hub settings from the environment, with huggingface_hub's names and defaults:
 * HF_ENDPOINT (https://huggingface.co), HF_TOKEN (bearer token; HUGGING_FACE_HUB_TOKEN is the
 * older name), HF_HUB_CACHE / HF_HOME (cache at $HF_HOME/hub, default ~/.cache/huggingface/hub,
 * honouring XDG_CACHE_HOME), HF_HUB_OFFLINE (=1: use the cache only, never the network).
 */
export interface HubSettings {
  endpoint: string;
  token?: string;
  cacheDir: string;
  offline: boolean;
  /** Retries on 429/5xx and dropped connections (default DEFAULT_RETRY in retry.ts). */
  retry?: RetryPolicy;
  /** Files downloaded at once by snapshotDownload (default 4; HF_HUB_DOWNLOAD_CONCURRENCY). */
  concurrency?: number;
}

export function hubSettings(env: NodeJS.ProcessEnv = process.env, overrides: Partial<HubSettings> = {}): HubSettings {
  const set = (v: string | undefined) => (v !== undefined && v !== '' ? v : undefined);
  const home = set(env.HF_HOME) ?? join(set(env.XDG_CACHE_HOME) ?? join(homedir(), '.cache'), 'huggingface');
  return {
    endpoint: (overrides.endpoint ?? set(env.HF_ENDPOINT) ?? 'https://huggingface.co').replace(/\/+$/, ''),
    token: overrides.token ?? set(env.HF_TOKEN) ?? set(env.HUGGING_FACE_HUB_TOKEN),
    cacheDir: overrides.cacheDir ?? set(env.HF_HUB_CACHE) ?? join(home, 'hub'),
    offline: overrides.offline ?? ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_OFFLINE ?? '').toLowerCase()),
    ...(overrides.retry ? { retry: overrides.retry } : {}),
    ...concurrencyOf(overrides.concurrency, set(env.HF_HUB_DOWNLOAD_CONCURRENCY)),
  };
}

export type RepoType = 'model' | 'dataset';

/** `models--org--name` (the huggingface_hub cache folder of a repo). */
export function repoFolderName(repo: string, repoType: RepoType): string {
  return `${repoType}s--${repo.replace(/\//g, '--')}`;
}

function concurrencyOf(given: number | undefined, env: string | undefined): { concurrency?: number } {
  if (given !== undefined) return { concurrency: given };
  const n = Number(env);
  return env !== undefined && Number.isInteger(n) && n >= 1 ? { concurrency: n } : {};
}
