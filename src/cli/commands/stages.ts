import { EXIT, type Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { stageRegistry } from '../project.js';
import type { CliIO } from '../io.js';
import { formatParamTable, paramRows } from '../params-table.js';
import { UserError } from '../../core/errors.js';

const command: Command = {
  summary: 'list the stage types a pipeline can use, with their params',
  usage: `
usage: polypersona stages [TYPE] [--json]

Without TYPE, lists every stage type. With TYPE, prints a table of its params (name, type,
default, description; nested objects as teacher.kind), what it produces and consumes. --json
prints the full JSON Schema of the params instead.
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('stages', argv, { json: { type: 'boolean' } });
    const registry = stageRegistry();
    if (positionals.length > 1) throw new UserError('usage', `stages: one stage type at a time, got ${positionals.length}`);
    if (positionals[0]) {
      const def = registry.get(positionals[0]);
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ type: def.type, version: def.version, produces: def.produces, consumes: def.consumes ?? {}, exclusive: def.exclusive === true, params: def.paramsSchema }, null, 2)}\n`);
        return EXIT.ok;
      }
      const consumes = Object.entries(def.consumes ?? {}).map(([kind, how]) => `${kind}${typeof how === 'object' && how !== null ? ` ${JSON.stringify(how)}` : ''}`);
      const lines = [
        `${def.type} (version ${def.version})${def.exclusive ? ', runs alone (exclusive)' : ''}`,
        def.description,
        `produces: ${def.produces}${consumes.length ? `; consumes: ${consumes.join(', ')}` : ''}`,
        '',
        ...formatParamTable(paramRows(def.paramsSchema), io.stdout.columns ?? 100),
      ];
      io.stdout.write(`${lines.join('\n')}\n`);
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
