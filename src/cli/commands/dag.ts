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
usage: polypersona dag [PIPELINE] [--format text|mermaid|dot]
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('dag', argv, { format: { type: 'string', default: 'text' } });
    const format = values.format as (typeof FORMATS)[number];
    if (!FORMATS.includes(format)) throw new UserError('usage', `dag: --format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
    const pipeline = openPipeline(io, positionals[0], values['runs-dir']);
    const text = renderDag(pipeline, format);
    io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return EXIT.ok;
  },
};

export default command;
