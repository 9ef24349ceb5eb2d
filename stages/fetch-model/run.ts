import { constants, copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataError } from '../../src/core/errors.js';
import type { StageContext } from '../../src/engine/contract.js';
import { hubSettings, snapshotDownload } from '../../src/model/hub/index.js';
import { inspectModelDir } from '../../src/model/model-dir.js';
import type { FetchModelParams } from './params.js';

export async function runFetchModel(ctx: StageContext<FetchModelParams>): Promise<void> {
  const p = ctx.params;
  const settings = hubSettings(process.env);
  ctx.log.info(`fetch-model: ${p.repo_id}@${p.revision} from ${settings.offline ? `the cache (HF_HUB_OFFLINE) at ${settings.cacheDir}` : settings.endpoint}`);
  let reported = -Infinity;
  const snapshot = await snapshotDownload({
    repo: p.repo_id,
    revision: p.revision,
    allowPatterns: p.allow_patterns,
    ignorePatterns: p.ignore_patterns,
    settings,
    signal: ctx.signal,
    onProgress: (done, total) => {
      // Chunks arrive every 64 KiB: report every 8 MiB and at the end, not per chunk.
      if (done - reported >= 8 * 2 ** 20 || done === total) {
        reported = done;
        ctx.progress(done, total, 'bytes');
      }
    },
  });
  // A copy, not links into the cache: the published artifact must not change if the cache is pruned.
  for (const f of snapshot.files) {
    const target = join(ctx.outDir, f.path);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(f.localPath, target, constants.COPYFILE_FICLONE);
  }
  if (p.revision !== snapshot.sha) {
    ctx.log.warn(`fetch-model: "${p.revision}" resolved to commit ${snapshot.sha}; pin revision: ${snapshot.sha} for a reproducible pipeline`);
  }
  ctx.recordProvenance({
    hub: {
      endpoint: settings.endpoint,
      repo: p.repo_id,
      revision: p.revision,
      commit: snapshot.sha,
      offline: settings.offline,
      bytesFetched: snapshot.bytesFetched,
      files: Object.fromEntries(snapshot.files.map((f) => [f.path, { sha256: f.sha256, size: f.size }])),
    },
  });
  if (p.check_model) {
    try {
      inspectModelDir(ctx.outDir);
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      throw new DataError(err.code, `${p.repo_id}@${snapshot.sha} is not a usable model dir (set check_model: false to fetch it anyway): ${err.message.replaceAll(ctx.outDir, p.repo_id)}`, { cause: err });
    }
  }
}
