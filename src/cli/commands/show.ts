import { EXIT, type Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { openPipeline, openStore } from '../project.js';
import { pipelineStatus } from '../../engine/status.js';
import { UserError } from '../../core/errors.js';
import { closest } from '../../engine/registry.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: "show a stage's key, output folder and provenance",
  usage: `
usage: polypersona show STAGE [--pipeline FILE] [--json]

Prints where STAGE's outputs are, its key, and the provenance recorded in its stage.json.
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('show', argv, { pipeline: { type: 'string', short: 'p' }, json: { type: 'boolean' } });
    const id = positionals[0];
    if (!id) throw new UserError('usage', 'show: which stage? (polypersona show STAGE)');
    const pipeline = openPipeline(io, values.pipeline, values['runs-dir']);
    const statuses = await pipelineStatus(pipeline, openStore(io, values['runs-dir'], pipeline));
    const picked = statuses.filter((s) => s.id === id || pipeline.stages.get(s.id)?.baseId === id);
    if (picked.length === 0) {
      const near = closest(id, statuses.map((s) => s.id));
      throw new UserError('unknown-stage', `pipeline "${pipeline.name}" has no stage "${id}"${near ? ` (did you mean "${near}"?)` : ''}`);
    }
    if (values.json) {
      io.stdout.write(`${JSON.stringify(picked.map((s) => ({ id: s.id, state: s.state, key: s.key, dir: s.entry?.outDir, reasons: s.reasons, record: s.entry?.record })), null, 2)}\n`);
      return EXIT.ok;
    }
    for (const s of picked) {
      io.stdout.write(`stage    ${s.id} (${s.type})\n`);
      io.stdout.write(`state    ${s.state}${s.reasons.length ? ` — ${s.reasons.join('; ')}` : ''}\n`);
      io.stdout.write(`key      ${s.key ?? '(unknown until its upstream stages run)'}\n`);
      if (s.entry) {
        const r = s.entry.record;
        io.stdout.write(`outputs  ${s.entry.outDir}\n`);
        io.stdout.write(`digest   ${r.outputDigest} (${r.files.length} files, ${r.files.reduce((n, f) => n + f.size, 0)} bytes)\n`);
        io.stdout.write(`ran      ${r.startedAt} for ${r.durationMs} ms, seed ${r.seed}, ${r.threads} threads\n`);
        io.stdout.write(`record   ${s.entry.dir}/stage.json\n`);
        const prov = Object.keys(r.provenance ?? {});
        if (prov.length) io.stdout.write(`notes    ${prov.join(', ')} (see stage.json)\n`);
      }
      io.stdout.write('\n');
    }
    return EXIT.ok;
  },
};

export default command;
