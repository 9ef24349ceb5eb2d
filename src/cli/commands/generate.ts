import { resolve } from 'node:path';
import { EXIT, type Command } from '../command.js';
import { intOption, parseCommandArgs } from '../args.js';
import { UserError } from '../../core/errors.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: 'generate a reply from a model by hand',
  usage: `
usage: polypersona generate --model DIR [--adapter DIR] [options] "PROMPT"

Applies the model's chat template to PROMPT as a user message and prints the reply.

options:
  --model DIR          a model directory (required)
  --adapter DIR        a PEFT LoRA adapter to apply
  --system TEXT        a system message (e.g. a persona card)
  --max-new-tokens N   default 128
  --temperature T      sample with temperature T (default: greedy)
  --top-p P            nucleus sampling (with --temperature)
  --top-k K            top-k sampling (with --temperature)
  --seed N             sampling seed (default 0): same seed, same text
  --threads N          ONNX Runtime threads (default 2)
  --json               print the result (text, token counts, finish reason) as JSON
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('generate', argv, {
      model: { type: 'string', short: 'm' },
      adapter: { type: 'string' },
      system: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      'top-k': { type: 'string' },
      seed: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.model) throw new UserError('usage', 'generate: --model DIR is required');
    const prompt = positionals.join(' ');
    if (!prompt) throw new UserError('usage', 'generate: give a prompt, e.g. polypersona generate --model DIR "How satisfied are you with your job?"');
    const number = (name: string, v: string | undefined, min: number, max: number): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n < min || n > max) throw new UserError('usage', `generate: --${name} must be a number in [${min}, ${max}], got "${v}"`);
      return n;
    };
    const temperature = number('temperature', values.temperature, 0, 100);
    const { generateText } = await import('../../model/generate/generator.js');
    const result = await generateText(resolve(io.cwd, values.model), prompt, {
      adapterDir: values.adapter ? resolve(io.cwd, values.adapter) : undefined,
      system: values.system,
      maxNewTokens: intOption('generate', 'max-new-tokens', values['max-new-tokens']) ?? 128,
      doSample: temperature !== undefined && temperature > 0,
      temperature: temperature ?? 1,
      topP: number('top-p', values['top-p'], 0, 1) ?? 1,
      topK: intOption('generate', 'top-k', values['top-k'], 0) ?? 0,
      seed: intOption('generate', 'seed', values.seed, 0) ?? 0,
      threads: intOption('generate', 'threads', values.threads) ?? 2,
      signal: io.signal,
    });
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ text: result.text, prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens, finish_reason: result.finishReason })}\n`);
    } else {
      io.stdout.write(`${result.text}\n`);
      if (values.verbose) io.stderr.write(`${result.promptTokens} prompt tokens, ${result.completionTokens} generated (${result.finishReason})\n`);
    }
    return EXIT.ok;
  },
};

export default command;
