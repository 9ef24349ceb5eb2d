import { EXIT, type Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { openPipeline } from '../project.js';
import { renderDag } from '../../engine/pipeline/index.js';
import { UserError } from '../../core/errors.js';
import type { CliIO } from '../io.js';

const FORMATS = ['text', 'mermaid', 'dot'] as const;

const command: Command = {
  summary: 'print the stage graph (text, mermaid or dot)',
  usage: `
usage: polypersona dag [PIPELINE] [--format text|mermaid|dot] [--json]

Prints the stage graph in run order. --json: { pipeline, file, stages: [{ id, type, needs,
matrix? }] } for tools.
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('dag', argv, { format: { type: 'string', default: 'text' }, json: { type: 'boolean' } });
    const format = values.format as (typeof FORMATS)[number];
    if (!FORMATS.includes(format)) throw new UserError('usage', `dag: --format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
    if (positionals.length > 1) throw new UserError('usage', `dag: one pipeline at a time, got ${positionals.length}`);
    const pipeline = openPipeline(io, positionals[0], values['runs-dir']);
    if (values.json) {
      const stages = [...pipeline.stages.values()].map((s) => ({ id: s.id, type: s.type, needs: s.needs, ...(s.matrix ? { matrix: s.matrix } : {}) }));
      io.stdout.write(`${JSON.stringify({ pipeline: pipeline.name, file: pipeline.file, stages }, null, 2)}\n`);
      return EXIT.ok;
    }
    const text = renderDag(pipeline, format);
    io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return EXIT.ok;
  },
};

export default command;
