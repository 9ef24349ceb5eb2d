import { resolve } from 'node:path';
import { EXIT, type Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { UserError } from '../../core/errors.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: 'inspect a model directory (model info DIR)',
  usage: `
usage: polypersona model info DIR [--json]

Prints a Hugging Face model directory's architecture, shape, parameter count, dtype,
quantization and files. DIR may be any model dir: init-model / quantize / fetch-model outputs
(see \`polypersona show STAGE\` for where they are) or a downloaded hub snapshot.
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('model', argv, { json: { type: 'boolean' } });
    const [sub, dir] = positionals;
    if (sub !== 'info') throw new UserError('usage', `model: unknown subcommand "${sub ?? ''}" (usage: polypersona model info DIR)`);
    if (!dir) throw new UserError('usage', 'model info: which model directory? (polypersona model info DIR)');
    const { modelInfo, formatModelInfo } = await import('../../model/model-info.js');
    const info = modelInfo(resolve(io.cwd, dir));
    if (values.json) io.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    else io.stdout.write(`${formatModelInfo(info).join('\n')}\n`);
    return EXIT.ok;
  },
};

export default command;
