/**
 * Stable paths to each stage's latest output: after a run, `runs/latest/<pipeline>/<stage>` is a
 * symbolic link to the cache entry's `out/` folder that the run used (ran or cached), so a person
 * or a script can open `runs/latest/smoke/report/report.md` without looking up a key.
 *
 *   runs/latest/smoke/predictions -> ../../cache/3f/3f2a…/out
 *
 * Links are relative (a moved runs folder keeps them valid) and replaced atomically (a new link
 * under a temp name, renamed over the old one). A link whose entry gc removed dangles;
 * `polypersona outputs` says so.
 */
import { existsSync, lstatSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { historyDirName } from '../engine/store/index.js';

export function latestDir(runsDir: string, pipeline: string): string {
  return join(runsDir, 'latest', historyDirName(pipeline));
}

/** The link of one stage; stage ids may hold `[`, `]` and `,` (matrix expansions), which are valid file names. */
export function latestLink(runsDir: string, pipeline: string, stageId: string): string {
  return join(latestDir(runsDir, pipeline), historyDirName(stageId));
}

/** Points each stage's link at its output folder. */
export function linkLatest(runsDir: string, pipeline: string, outputs: Array<{ id: string; outDir: string }>): void {
  if (outputs.length === 0) return;
  mkdirSync(latestDir(runsDir, pipeline), { recursive: true });
  for (const { id, outDir } of outputs) {
    const link = latestLink(runsDir, pipeline, id);
    const target = relative(dirname(link), outDir);
    if (isLinkTo(link, target)) continue;
    const temp = `${link}.${process.pid}.tmp`;
    rmSync(temp, { force: true });
    // 'junction' makes a directory link on Windows without admin rights; elsewhere it is ignored.
    symlinkSync(target, temp, 'junction');
    renameSync(temp, link);
  }
}

/** Where a stage's link points (absolute), and whether that folder still exists; undefined without a link. */
export function readLatest(runsDir: string, pipeline: string, stageId: string): { link: string; target: string; exists: boolean } | undefined {
  const link = latestLink(runsDir, pipeline, stageId);
  try {
    if (!lstatSync(link).isSymbolicLink()) return undefined;
  } catch {
    return undefined;
  }
  const target = resolve(dirname(link), readlinkSync(link));
  return { link, target, exists: existsSync(target) };
}

function isLinkTo(link: string, target: string): boolean {
  try {
    return lstatSync(link).isSymbolicLink() && readlinkSync(link) === target;
  } catch {
    return false;
  }
}
