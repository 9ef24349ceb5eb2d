import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataError, UserError } from '../../src/core/errors.js';
import { writeFileAtomic } from '../../src/core/atomic.js';
import type { StageContext } from '../../src/engine/contract.js';
import { parseModelConfig, toHfConfigJson, type LlamaConfig } from '../../src/model/config.js';
import { dtypeOfTorch } from '../../src/model/dtype-convert.js';
import { lazyLlamaWeights } from '../../src/model/init/index.js';
import type { HostTensor } from '../../src/model/tensor.js';
import { CONFIG_FILE, writeModelDir } from '../../src/model/model-dir.js';
import { parameterCount, presetConfig } from '../../src/model/presets.js';
import { byteLevelTokenizerFiles, byteLevelVocabSize, trainByteLevelBpe, BYTE_LEVEL_BASE_VOCAB } from '../../src/model/tokenizer/index.js';
import { DATASET_FILE, readDatasetFile } from '../../src/survey/record.js';
import { chatmlSplitFile, readChatmlSplit } from '../../src/formats/chatml.js';
import type { InitModelParams } from './params.js';

const SHAPE_KEYS = [
  'model_type', 'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads',
  'num_key_value_heads', 'head_dim', 'rope_theta', 'rms_norm_eps', 'max_position_embeddings', 'tie_word_embeddings',
] as const;

export async function runInitModel(ctx: StageContext<InitModelParams>): Promise<void> {
  const p = ctx.params;
  const seed = p.seed ?? ctx.seed;
  const started = performance.now();

  const merges = p.tokenizer.train_on === 'none' ? [] : trainByteLevelBpe(corpusTexts(ctx), p.tokenizer.vocab_size - BYTE_LEVEL_BASE_VOCAB);
  const tokenizerSpec = { merges, modelMaxLength: p.tokenizer.model_max_length };
  const tokenizerSize = byteLevelVocabSize(tokenizerSpec);
  const cfg = resolveConfig(p, tokenizerSize);
  ctx.log.info(`init-model: ${p.preset} ${cfg.architecture}, ${parameterCount(cfg)} parameters, tokenizer ${tokenizerSize} tokens (${merges.length} merges), seed ${seed}`);
  checkAborted(ctx);

  // Weights are drawn while the writer reaches them (one tensor in memory at a time: the 1.1B
  // shape stays at a few hundred MB of RSS), with progress and cancellation per tensor. The ONNX
  // exporter needs them all, so with export_onnx they are also kept.
  const lazy = lazyLlamaWeights(cfg, seed, { dtype: dtypeOfTorch(p.torch_dtype), initializerRange: p.initializer_range });
  const total = lazy.size + (p.export_onnx ? 1 : 0);
  const kept = p.export_onnx ? new Map<string, HostTensor>() : undefined;
  let drawn = 0;
  for (const [name, tensor] of lazy) {
    const load = tensor.load;
    tensor.load = () => {
      checkAborted(ctx);
      const t = load();
      kept?.set(name, t);
      ctx.progress(++drawn, total, 'tensors');
      return t;
    };
  }
  const files = writeModelDir(ctx.outDir, cfg, lazy, byteLevelTokenizerFiles(tokenizerSpec));
  checkAborted(ctx);

  let onnx: string | undefined;
  if (kept) {
    const { exportDecoderOnnx } = await import('../../src/model/decoder/export.js');
    const weights = new Map([...lazy.keys()].map((name) => [name, kept.get(name)!]));
    const exported = exportDecoderOnnx({ cfg, weights }, ctx.outDir);
    onnx = exported.file;
    // As writeOnnxModelDir does: tell transformers.js which graph to load.
    const configPath = join(ctx.outDir, CONFIG_FILE);
    const configJson = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    configJson['transformers.js_config'] = { dtype: exported.dtype, ...(exported.externalData ? { use_external_data_format: true } : {}) };
    writeFileAtomic(configPath, `${JSON.stringify(configJson, null, 2)}\n`);
  }
  ctx.progress(total, total, 'done');
  ctx.recordProvenance({
    preset: p.preset,
    architecture: cfg.architecture,
    parameters: parameterCount(cfg),
    weightSeed: seed,
    torchDtype: p.torch_dtype,
    tokenizer: { kind: p.tokenizer.kind, size: tokenizerSize, merges: merges.length, trainedOn: p.tokenizer.train_on },
    files: onnx ? [...files, onnx] : files,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  });
}

/** The preset's shape with the params' HF keys laid over it, checked like a config.json. */
export function resolveConfig(p: InitModelParams, tokenizerSize: number): LlamaConfig {
  const base = presetConfig(p.preset === 'custom' ? 'tiny' : p.preset);
  const hf: Record<string, unknown> = toHfConfigJson(base);
  delete hf.head_dim; // recomputed from hidden_size / heads unless given
  if (p.preset !== 'tinyllama-1.1b') hf.vocab_size = tokenizerSize;
  for (const key of SHAPE_KEYS) if (p[key] !== undefined) hf[key] = p[key];
  if (p.model_type && p.model_type !== base.architecture) delete hf.attention_bias;
  hf.torch_dtype = p.torch_dtype;
  const cfg = parseModelConfig(hf, 'init-model params');
  if (cfg.vocabSize < tokenizerSize) {
    throw new UserError('bad-params', `init-model params: vocab_size ${cfg.vocabSize} is smaller than the tokenizer (${tokenizerSize} tokens)`);
  }
  return cfg;
}

/** Texts to train the tokenizer on: chatml train split messages, or every string of the responses dataset. */
function corpusTexts(ctx: StageContext<InitModelParams>): string[] {
  const kind = ctx.params.tokenizer.train_on;
  const input = ctx.input(kind);
  const file = kind === 'chatml' ? chatmlSplitFile(input.dir, 'train') : join(input.dir, DATASET_FILE);
  if (!existsSync(file)) throw new DataError('missing-file', `${file}: tokenizer.train_on is "${kind}" but the input has no such file`, { location: { file } });
  const texts: string[] = [];
  if (kind === 'chatml') {
    for (const record of readChatmlSplit(file)) for (const m of record.messages) texts.push(m.content);
    return texts;
  }
  for (const record of readDatasetFile(file)) collectStrings(record, texts);
  return texts;
}

function collectStrings(value: unknown, out: string[], key?: string): void {
  if (typeof value === 'string') {
    if (key !== 'id') out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collectStrings(v, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) collectStrings(v, out, k);
  }
}

function checkAborted(ctx: StageContext<InitModelParams>): void {
  if (ctx.signal.aborted) throw ctx.signal.reason;
}
