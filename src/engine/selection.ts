import type { LoadedPipeline } from './pipeline/index.js';
import { UserError } from '../core/errors.js';
import { closest } from './registry.js';

/**
 * Which stages a run touches. `--stage` picks stages (a matrix stage's base id picks every
 * expansion); their upstream stages join as providers of inputs (from cache, or built when
 * missing) but are never forced; `--downstream` adds everything that depends on the picks.
 */
export function selectStages(
  pipeline: LoadedPipeline,
  options: { stages?: string[]; force?: boolean; downstream?: boolean },
): { targets: string[]; forced: Set<string> } {
  const all = [...pipeline.stages.keys()];
  let picked: string[];
  if (!options.stages || options.stages.length === 0) {
    picked = all;
  } else {
    picked = [];
    for (const name of options.stages) {
      const matches = all.filter((id) => id === name || pipeline.stages.get(id)!.baseId === name);
      if (matches.length === 0) {
        const near = closest(name, [...new Set(all.flatMap((id) => [id, pipeline.stages.get(id)!.baseId]))]);
        throw new UserError('unknown-stage', `pipeline "${pipeline.name}" has no stage "${name}"${near ? ` (did you mean "${near}"?)` : ''}`, { location: { file: pipeline.file } });
      }
      picked.push(...matches);
    }
  }
  const selected = new Set(picked);
  if (options.downstream) for (const id of pipeline.downstream(picked)) selected.add(id);
  const wanted = new Set([...pipeline.upstream([...selected]), ...selected]);
  const targets = all.filter((id) => wanted.has(id));
  const forced = new Set(options.force ? [...selected] : []);
  return { targets, forced };
}
