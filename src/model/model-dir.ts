import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError, UserError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic.js';
import { readJsonFile } from '../core/files.js';
import { expectedWeights } from './architectures/index.js';
import { parseModelConfig, toHfConfigJson, type LlamaConfig } from './config.js';
import { torchOfDtype } from './dtype-convert.js';
import { locateSafetensors, openSafetensors, writeSafetensorsDir, INDEX_FILE, SINGLE_FILE, type LazyTensor, type LocatedTensor, type SafetensorsFile, type TensorSource } from './safetensors/index.js';
import type { HostTensor } from './tensor.js';
import { writeTokenizerFiles } from './tokenizer/files.js';

/**
 * Hugging Face model directories: `config.json`, `generation_config.json`, `model.safetensors`
 * (or shards + `model.safetensors.index.json`), `tokenizer.json`, `tokenizer_config.json`;
 * ONNX graphs may sit beside them. Loading checks everything a later stage relies on up front —
 * config keys, architecture, every expected tensor with its shape and a float dtype, tokenizer
 * files — and names the file at fault.
 */
export const CONFIG_FILE = 'config.json';
export const GENERATION_CONFIG_FILE = 'generation_config.json';
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

export interface ModelDir {
  dir: string;
  config: LlamaConfig;
  /** config.json as parsed JSON (keys we do not model are kept for writers that copy it). */
  configJson: Record<string, unknown>;
  /** Where each expected weight lives (file + header entry); checked against the config. */
  weightIndex: Map<string, LocatedTensor>;
  /** Tensors in the checkpoint that the config does not expect and the model ignores (rotary inv_freq buffers, an LM head beside tied embeddings); any other extra tensor is refused. */
  extraTensors: string[];
  /** Every file of the dir (relative names, sorted). */
  files: string[];
}

export interface LoadedModelDir extends ModelDir {
  /** The expected weights, in expectedWeights order. */
  weights: Map<string, HostTensor>;
}

export interface LoadOptions {
  /** Check that tokenizer.json and tokenizer_config.json exist (default true). */
  requireTokenizer?: boolean;
}

/** Checks a model dir and indexes its weights without reading tensor data. */
export function inspectModelDir(modelDir: string, options: LoadOptions = {}): ModelDir {
  const dir = resolve(modelDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DataError('missing-model-dir', `${dir}: model directory does not exist`, { location: { file: dir } });
  const configPath = join(dir, CONFIG_FILE);
  const configJson = readJsonFile(configPath, 'the model config');
  const config = parseModelConfig(configJson, configPath);
  if (options.requireTokenizer ?? true) {
    for (const f of TOKENIZER_FILES) {
      if (!existsSync(join(dir, f))) throw new DataError('missing-tokenizer', `${join(dir, f)}: tokenizer file missing from the model dir`, { location: { file: join(dir, f) } });
    }
  }
  const located = locateSafetensors(dir);
  const weightIndex = new Map<string, LocatedTensor>();
  for (const [name, shape] of expectedWeights(config)) {
    const hit = located.get(name);
    if (!hit) {
      throw new DataError('missing-weight', `${dir}: weight "${name}" [${shape.join(', ')}] required by ${CONFIG_FILE} is not in the checkpoint (${weightFilesLabel(dir)})`, { location: { file: join(dir, weightFilesLabel(dir)) } });
    }
    const file = join(dir, hit.file);
    if (!sameShape(hit.entry.shape, shape)) {
      throw new DataError('weight-shape', `${file}: weight "${name}" has shape [${hit.entry.shape.join(', ')}] but ${CONFIG_FILE} implies [${shape.join(', ')}]`, { location: { file } });
    }
    if (!FLOAT_DTYPES.has(hit.entry.dtype)) {
      throw new DataError('weight-dtype', `${file}: weight "${name}" has dtype ${hit.entry.dtype}; expected F32, F16 or BF16`, { location: { file } });
    }
    weightIndex.set(name, hit);
  }
  const extraTensors = [...located.keys()].filter((n) => !weightIndex.has(n)).sort();
  const unused = extraTensors.find((n) => !ignorableTensor(n, config));
  if (unused !== undefined) {
    const file = join(dir, located.get(unused)!.file);
    throw new DataError('unexpected-weight', `${file}: weight "${unused}" is not part of a ${config.architecture} model as ${CONFIG_FILE} describes it (a variant this project does not build, e.g. an o_proj or MLP bias); refusing to drop it silently`, { location: { file } });
  }
  return { dir, config, configJson: configJson as Record<string, unknown>, weightIndex, extraTensors, files: listFiles(dir) };
}

/** inspectModelDir, then reads every expected weight. */
export function loadModelDir(modelDir: string, options: LoadOptions = {}): LoadedModelDir {
  const model = inspectModelDir(modelDir, options);
  const reader = openModelWeights(model);
  try {
    const weights = new Map<string, HostTensor>();
    for (const name of model.weightIndex.keys()) weights.set(name, reader.read(name));
    return { ...model, weights };
  } finally {
    reader.close();
  }
}

/** Reads weights one at a time (for models too large to hold in two copies). */
export interface WeightReader {
  read(name: string): HostTensor;
  close(): void;
}

export function openModelWeights(model: ModelDir): WeightReader {
  const open = new Map<string, SafetensorsFile>();
  return {
    read(name) {
      const hit = model.weightIndex.get(name);
      if (!hit) throw new DataError('missing-weight', `${model.dir}: no weight "${name}"`, { location: { file: model.dir } });
      let file = open.get(hit.file);
      if (!file) open.set(hit.file, (file = openSafetensors(join(model.dir, hit.file))));
      return file.read(name);
    },
    close() {
      for (const f of open.values()) f.close();
      open.clear();
    },
  };
}

export interface WriteModelOptions {
  /** Shard the checkpoint above this many bytes (default 2 GiB). */
  maxShardBytes?: number;
  /** Extra keys for generation_config.json. */
  generationConfig?: Record<string, unknown>;
}

/**
 * Writes a complete model dir. `weights` must hold exactly expectedWeights(cfg) (any mix of float
 * dtypes; config.json's torch_dtype is the embedding's), in memory or lazy (made while writing). `tokenizerFiles` maps file names to contents.
 * Returns the file names written.
 */
export function writeModelDir(
  dir: string,
  cfg: LlamaConfig,
  weights: TensorSource,
  tokenizerFiles: Record<string, string>,
  options: WriteModelOptions = {},
): string[] {
  const expected = expectedWeights(cfg);
  for (const [name, shape] of expected) {
    const t = weights.get(name);
    if (!t) throw new UserError('missing-weight', `writeModelDir: weight "${name}" missing`);
    if (!sameShape(t.shape, shape)) throw new UserError('weight-shape', `writeModelDir: weight "${name}" has shape [${t.shape.join(', ')}], config implies [${shape.join(', ')}]`);
  }
  for (const name of weights.keys()) if (!expected.has(name)) throw new UserError('extra-weight', `writeModelDir: weight "${name}" is not part of this config`);
  const ordered = new Map<string, HostTensor | LazyTensor>([...expected.keys()].map((n) => [n, weights.get(n)!]));
  const torchDtype = torchOfDtype(weights.get('model.embed_tokens.weight')!.dtype);
  const configJson = toHfConfigJson({ ...cfg, torchDtype });
  writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(configJson, null, 2)}\n`);
  const generation = {
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenId.length === 1 ? cfg.eosTokenId[0] : cfg.eosTokenId,
    pad_token_id: cfg.padTokenId,
    ...options.generationConfig,
  };
  writeFileAtomic(join(dir, GENERATION_CONFIG_FILE), `${JSON.stringify(generation, null, 2)}\n`);
  const weightFiles = writeSafetensorsDir(dir, ordered, { maxShardBytes: options.maxShardBytes });
  const tokenizer = writeTokenizerFiles(dir, tokenizerFiles);
  return [CONFIG_FILE, GENERATION_CONFIG_FILE, ...weightFiles, ...tokenizer];
}

/**
 * Tensors a checkpoint may carry that the model does not use: RoPE inverse-frequency buffers
 * (recomputed from rope_theta) saved by old transformers versions, and an LM head kept beside
 * tied embeddings (transformers ties it to the embedding on load, as we do). Any other unknown
 * tensor means a variant the graph would get wrong (see inspectModelDir).
 */
function ignorableTensor(name: string, config: LlamaConfig): boolean {
  return name.endsWith('.rotary_emb.inv_freq') || (name === 'lm_head.weight' && config.tieWordEmbeddings);
}

function weightFilesLabel(dir: string): string {
  return existsSync(join(dir, INDEX_FILE)) ? INDEX_FILE : SINGLE_FILE;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Relative paths of every file under `dir`, sorted. */
export function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}
