import { resolve } from 'node:path';
import { EXIT, type Command } from '../command.js';
import { intOption, parseCommandArgs } from '../args.js';
import { UserError } from '../../core/errors.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: 'serve a model as an OpenAI-compatible chat API (a synthetic respondent)',
  usage: `
usage: polypersona serve --model DIR [--adapter DIR] [--port N] [--host ADDR] [--threads N]

Serves POST /v1/chat/completions (streaming and not) and GET /v1/models on http://HOST:PORT
(default 127.0.0.1:8000) until Ctrl-C. Any OpenAI-compatible client can then query the
(fine-tuned) persona model, e.g. the synthesize-responses stage's openai teacher.
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseCommandArgs('serve', argv, {
      model: { type: 'string', short: 'm' },
      adapter: { type: 'string' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      threads: { type: 'string' },
      name: { type: 'string' },
    });
    if (!values.model) throw new UserError('usage', 'serve: --model DIR is required');
    const port = intOption('serve', 'port', values.port, 0) ?? 8000;
    if (port > 65535) throw new UserError('usage', `serve: --port must be at most 65535, got ${port}`);
    const { startServer } = await import('../../model/serve/index.js');
    const server = await startServer({
      modelDir: resolve(io.cwd, values.model),
      adapterDir: values.adapter ? resolve(io.cwd, values.adapter) : undefined,
      port,
      host: values.host ?? '127.0.0.1',
      threads: intOption('serve', 'threads', values.threads) ?? 2,
      modelName: values.name,
    });
    io.stdout.write(`serving ${server.modelName} at ${server.url}/v1 (Ctrl-C to stop)\n`);
    await new Promise<void>((stop) => {
      if (io.signal.aborted) return stop();
      io.signal.addEventListener('abort', () => stop(), { once: true });
    });
    await server.close();
    io.stdout.write('stopped\n');
    return EXIT.ok;
  },
};

export default command;
