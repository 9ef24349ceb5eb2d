import { resolve } from 'node:path';
import { EXIT, type Command } from '../command.js';
import { intOption, parseCommandArgs } from '../args.js';
import { UserError } from '../../core/errors.js';
import type { CliIO } from '../io.js';
import { formatDuration } from '../reporters/reporter.js';

const command: Command = {
  summary: 'serve a model as an OpenAI-compatible chat API (a synthetic respondent)',
  usage: `
usage: polypersona serve --model DIR [--adapter DIR] [--port N] [--host ADDR] [--threads N] [--model-name ID]

Serves POST /v1/chat/completions (streaming and not), GET /v1/models and GET /v1/models/ID on
http://HOST:PORT (default 127.0.0.1:8000) until Ctrl-C, one request at a time. Any OpenAI-compatible
client (the official \`openai\` package, the synthesize-responses stage's openai teacher) can then
query the (fine-tuned) persona model. Prints one line per request.

options:
  --model DIR        a model directory (required)
  --adapter DIR      a PEFT LoRA adapter to apply
  --model-name ID    the model id clients send (default: config.json's _name_or_path, else the
                     folder's name); requests naming another model get 404 model_not_found
  --port N           default 8000; 0 picks a free port
  --host ADDR        default 127.0.0.1 (this machine only)
  --threads N        ONNX Runtime threads (default 2)

Honoured: messages, model, temperature, top_p, max_tokens / max_completion_tokens, stop (string
or up to 4), seed (without one, every request draws a fresh random seed), stream,
stream_options.include_usage. Refused with 400: logprobs, top_logprobs, n > 1, penalties,
logit_bias, tools. Bodies over 1 MiB: 413. See docs/inference.md.
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseCommandArgs('serve', argv, {
      model: { type: 'string', short: 'm' },
      adapter: { type: 'string' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      threads: { type: 'string' },
      'model-name': { type: 'string' },
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
      modelName: values['model-name'] ?? values.name,
      onRequest: (r) => {
        const tokens = `${r.promptTokens}+${r.completionTokens} tokens`;
        const what = r.error ? `error: ${r.error}` : `${r.finishReason}${r.seed !== undefined ? `, seed ${r.seed}` : ''}`;
        io.stdout.write(`${new Date().toISOString()} ${r.status} ${r.stream ? 'stream' : 'chat'} ${tokens} ${formatDuration(r.durationMs)} (${what})\n`);
      },
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
