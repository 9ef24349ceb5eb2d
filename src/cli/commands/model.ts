import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXIT, type Command } from '../command.js';
import { parseCommandArgs } from '../args.js';
import { UserError } from '../../core/errors.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: 'inspect a model or adapter directory (model info DIR); model generate = generate',
  usage: `
usage: polypersona model info DIR [--json]
       polypersona model generate --model DIR "PROMPT"   (the same as \`polypersona generate\`)

\`model info\` prints a Hugging Face model directory's architecture, shape, parameter count, dtypes,
quantization (MatMulNBits bits, block size, symmetry, accuracy level; "none" for float weights)
and files. DIR may be any model dir — init-model / quantize / fetch-model outputs or a downloaded
hub snapshot — or a PEFT LoRA adapter dir (lora-train's output): then it prints the adapter's
r, lora_alpha, target modules and base model. \`polypersona outputs STAGE\` says where a stage's
output is.
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    if (argv[0] === 'generate') return (await import('./generate.js')).default.run(argv.slice(1), io);
    const { values, positionals } = parseCommandArgs('model', argv, { json: { type: 'boolean' } });
    const [sub, dir] = positionals;
    if (sub !== 'info') throw new UserError('usage', `model: unknown subcommand "${sub ?? ''}" (usage: polypersona model info DIR, or polypersona model generate …)`);
    if (!dir) throw new UserError('usage', 'model info: which model directory? (polypersona model info DIR)');
    const abs = resolve(io.cwd, dir);
    if (!existsSync(join(abs, 'config.json')) && existsSync(join(abs, 'adapter_config.json'))) {
      const info = adapterInfo(abs);
      io.stdout.write(values.json ? `${JSON.stringify(info, null, 2)}\n` : `${formatAdapterInfo(info).join('\n')}\n`);
      return EXIT.ok;
    }
    const { modelInfo, formatModelInfo } = await import('../../model/model-info.js');
    const { readQuantizationConfig } = await import('../../model/decoder/export.js');
    const info = modelInfo(abs);
    const configPath = join(info.dir, 'config.json');
    const quantization = readQuantizationConfig(JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>, configPath) ?? null;
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ ...info, quantization }, null, 2)}\n`);
      return EXIT.ok;
    }
    const lines = formatModelInfo(info);
    const q = quantization
      ? `int${quantization.bits} MatMulNBits, block ${quantization.blockSize}, ${quantization.symmetric ? 'symmetric' : 'asymmetric (zero points)'}, accuracy_level ${quantization.accuracyLevel}`
      : 'none (float weights)';
    // After the parameter lines, before the files.
    const at = lines.findIndex((l) => l.startsWith('weights'));
    lines.splice(at + 1, 0, `quantized   ${q}`);
    io.stdout.write(`${lines.join('\n')}\n`);
    return EXIT.ok;
  },
};

interface AdapterInfo {
  dir: string;
  kind: string;
  baseModel: string | null;
  r: number | null;
  loraAlpha: number | null;
  loraDropout: number | null;
  targetModules: string[];
  weightsBytes: number | null;
}

function adapterInfo(dir: string): AdapterInfo {
  const path = join(dir, 'adapter_config.json');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new UserError('bad-adapter', `${path}: not valid JSON (${(err as Error).message})`, { location: { file: path } });
  }
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const weights = join(dir, 'adapter_model.safetensors');
  const targets = json.target_modules;
  return {
    dir,
    kind: `${typeof json.peft_type === 'string' ? json.peft_type : 'LORA'} adapter (PEFT)`,
    baseModel: typeof json.base_model_name_or_path === 'string' ? json.base_model_name_or_path : null,
    r: num(json.r),
    loraAlpha: num(json.lora_alpha),
    loraDropout: num(json.lora_dropout),
    targetModules: Array.isArray(targets) ? targets.map(String) : typeof targets === 'string' ? [targets] : [],
    weightsBytes: existsSync(weights) ? statSync(weights).size : null,
  };
}

function formatAdapterInfo(a: AdapterInfo): string[] {
  return [
    `adapter dir ${a.dir}`,
    `kind        ${a.kind}`,
    `base model  ${a.baseModel ?? '(not recorded)'}`,
    `lora        r ${a.r ?? '?'}, lora_alpha ${a.loraAlpha ?? '?'}, dropout ${a.loraDropout ?? '?'}`,
    `targets     ${a.targetModules.join(', ') || '(none listed)'}`,
    `weights     ${a.weightsBytes === null ? 'adapter_model.safetensors missing' : `adapter_model.safetensors, ${a.weightsBytes} bytes`}`,
    'use it with: polypersona generate --model BASE_DIR --adapter DIR "…" (or serve --adapter DIR)',
  ];
}

export default command;
