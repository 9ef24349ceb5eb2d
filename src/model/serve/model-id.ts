import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * The `model` id a server answers to, when the user gave none (`--model-name`): the model's own
 * name, as Hugging Face records it in `config.json` (`_name_or_path`), so a client written for a
 * hub model needs no change. A model without one is named by its folder; a cache entry's folder
 * is always `out`, so there the entry's key names it (`llama-3f2a9c1b04de`). An adapter is named
 * `<base>+<adapter>` the same way.
 */
export function servedModelId(modelDir: string, adapterDir?: string): string {
  const base = nameOf(modelDir, 'config.json', '_name_or_path', 'model');
  if (!adapterDir) return base;
  return `${base}+${nameOf(adapterDir, undefined, undefined, 'lora')}`;
}

function nameOf(dir: string, configFile: string | undefined, field: string | undefined, kind: string): string {
  const abs = resolve(dir);
  let config: Record<string, unknown> = {};
  if (configFile && existsSync(join(abs, configFile))) {
    try {
      config = JSON.parse(readFileSync(join(abs, configFile), 'utf8')) as Record<string, unknown>;
    } catch {
      // The generator reads the same file and reports a broken one; a name is not worth a second error.
    }
  }
  const named = field ? config[field] : undefined;
  if (typeof named === 'string' && named.trim() !== '') return named.trim();
  const folder = basename(abs);
  if (folder !== 'out') return folder;
  const entry = basename(dirname(abs)).slice(0, 12);
  const type = typeof config.model_type === 'string' ? config.model_type : kind;
  return `${type}-${entry}`;
}
