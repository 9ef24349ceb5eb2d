import { EXIT, type Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { stageRegistry } from '../project.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: 'list the stage types a pipeline can use, with their params',
  usage: `
usage: polypersona stages [TYPE] [--json]

Without TYPE, lists every stage type. With TYPE, prints its params schema (names, types, defaults).
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('stages', argv, { json: { type: 'boolean' } });
    const registry = stageRegistry();
    if (positionals[0]) {
      const def = registry.get(positionals[0]);
      io.stdout.write(`${JSON.stringify({ type: def.type, version: def.version, produces: def.produces, consumes: def.consumes ?? {}, exclusive: def.exclusive === true, params: def.paramsSchema }, null, 2)}\n`);
      return EXIT.ok;
    }
    const list = registry.list();
    if (values.json) {
      io.stdout.write(`${JSON.stringify(list.map((d) => ({ type: d.type, version: d.version, produces: d.produces, description: d.description })), null, 2)}\n`);
      return EXIT.ok;
    }
    const width = Math.max(...list.map((d) => d.type.length));
    for (const d of list) io.stdout.write(`${d.type.padEnd(width)}  ${d.description}\n`);
    return EXIT.ok;
  },
};

export default command;
