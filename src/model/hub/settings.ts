import { homedir } from 'node:os';
import { join } from 'node:path';

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
}

export function hubSettings(env: NodeJS.ProcessEnv = process.env, overrides: Partial<HubSettings> = {}): HubSettings {
  const set = (v: string | undefined) => (v !== undefined && v !== '' ? v : undefined);
  const home = set(env.HF_HOME) ?? join(set(env.XDG_CACHE_HOME) ?? join(homedir(), '.cache'), 'huggingface');
  return {
    endpoint: (overrides.endpoint ?? set(env.HF_ENDPOINT) ?? 'https://huggingface.co').replace(/\/+$/, ''),
    token: overrides.token ?? set(env.HF_TOKEN) ?? set(env.HUGGING_FACE_HUB_TOKEN),
    cacheDir: overrides.cacheDir ?? set(env.HF_HUB_CACHE) ?? join(home, 'hub'),
    offline: overrides.offline ?? ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_OFFLINE ?? '').toLowerCase()),
  };
}

export type RepoType = 'model' | 'dataset';

/** `models--org--name` (the huggingface_hub cache folder of a repo). */
export function repoFolderName(repo: string, repoType: RepoType): string {
  return `${repoType}s--${repo.replace(/\//g, '--')}`;
}
