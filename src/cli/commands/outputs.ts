import { relative, isAbsolute } from 'node:path';
import { EXIT, type Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { openPipeline, openStore, RUNS_DIR_HELP } from '../project.js';
import { readLatest } from '../latest.js';
import { pipelineStatus } from '../../engine/status.js';
import { closest } from '../../engine/registry.js';
import { UserError } from '../../core/errors.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: "print where each stage's latest output is (runs/latest/<pipeline>/<stage>)",
  usage: `
usage: polypersona outputs [STAGE ...] [--pipeline FILE] [--json] [--runs-dir DIR]

Prints, per stage (all without STAGE), the stable path to the output of the last run that built
or reused it: runs/latest/<pipeline>/<stage>, a link into the cache that every run updates. A
stage no run has reached yet is shown with its current cache entry, if the cache has one.
Scripts can use the path directly: cat "$(polypersona outputs scores)/metrics.json".

options:
  -p, --pipeline FILE  the pipeline (default: polypersona.yaml, pipeline.yaml or pipelines/smoke.yaml)
  --json               [{ stage, path, dir, state }] with state latest | cached | missing | not-built
  --runs-dir DIR       ${RUNS_DIR_HELP}
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('outputs', argv, { pipeline: { type: 'string', short: 'p' }, json: { type: 'boolean' } });
    const pipeline = openPipeline(io, values.pipeline, values['runs-dir']);
    const store = openStore(io, values['runs-dir'], pipeline);
    const ids = positionals.length ? positionals.flatMap((name) => pick(pipeline.stages, name)) : [...pipeline.stages.keys()];
    const needStatus = ids.some((id) => !readLatest(store.runsDir, pipeline.name, id)?.exists);
    const statuses = needStatus ? new Map((await pipelineStatus(pipeline, store)).map((s) => [s.id, s])) : new Map();
    const rows = ids.map((id) => {
      const latest = readLatest(store.runsDir, pipeline.name, id);
      if (latest?.exists) return { stage: id, path: latest.link, dir: latest.target, state: 'latest' as const };
      const entry = statuses.get(id)?.entry;
      if (entry) return { stage: id, path: entry.outDir, dir: entry.outDir, state: 'cached' as const };
      return { stage: id, path: latest?.link ?? null, dir: null, state: latest ? ('missing' as const) : ('not-built' as const) };
    });
    if (values.json) {
      io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return EXIT.ok;
    }
    const shown = (path: string): string => {
      const rel = relative(io.cwd, path);
      return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
    };
    if (positionals.length === 1 && rows.length === 1) {
      const [row] = rows;
      if (!row!.dir) throw new UserError('no-output', `stage "${row!.stage}" has no output yet${row!.state === 'missing' ? ' (its last output was removed by gc)' : ''}; run it first: polypersona run --stage ${row!.stage}`);
      io.stdout.write(`${shown(row!.path!)}\n`);
      return EXIT.ok;
    }
    const width = Math.max(...rows.map((r) => r.stage.length));
    for (const r of rows) {
      const where = r.state === 'latest' || r.state === 'cached' ? shown(r.path!) : r.state === 'missing' ? '(removed by gc; run again)' : '(not built yet)';
      io.stdout.write(`${r.stage.padEnd(width)}  ${where}\n`);
    }
    return EXIT.ok;
  },
};

function pick(stages: Map<string, { baseId: string }>, name: string): string[] {
  const ids = [...stages].filter(([id, s]) => id === name || s.baseId === name).map(([id]) => id);
  if (ids.length > 0) return ids;
  const near = closest(name, [...stages.keys()]);
  throw new UserError('unknown-stage', `no stage "${name}"${near ? ` (did you mean "${near}"?)` : ''}`);
}

export default command;
