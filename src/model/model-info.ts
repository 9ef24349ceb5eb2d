import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Architecture, LlamaConfig } from './config.js';
import { inspectModelDir, TOKENIZER_FILES } from './model-dir.js';
import { checkTokenizerFiles } from './tokenizer/check.js';
import { DTYPE_BYTES, numel } from './tensor.js';

/** What `polypersona model info DIR` shows: shape, parameter count, dtypes and files of a model dir. */
export interface ModelInfo {
  dir: string;
  architecture: Architecture;
  /** config.json's `architectures[0]`, e.g. LlamaForCausalLM. */
  architectureClass?: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  tieWordEmbeddings: boolean;
  /** What the shape line does not say: phi's partial rotary and LayerNorm, an MoE's experts and its parameters active per token. */
  architectureNotes: string[];
  /** Parameters of the expected weights. */
  parameters: number;
  /** Parameters per storage dtype. */
  dtypes: Record<string, number>;
  weightBytes: number;
  files: Array<{ name: string; bytes: number }>;
  totalBytes: number;
  /** ONNX graphs in the dir (relative names). */
  onnx: string[];
  extraTensors: string[];
}

export function modelInfo(modelDir: string): ModelInfo {
  const m = inspectModelDir(modelDir, { requireTokenizer: false });
  // A tokenizer that is there must be well-formed (its chat template is rendered only on load).
  if (TOKENIZER_FILES.every((f) => existsSync(join(m.dir, f)))) checkTokenizerFiles(m.dir);
  const dtypes: Record<string, number> = {};
  let parameters = 0;
  let weightBytes = 0;
  for (const { entry } of m.weightIndex.values()) {
    const n = numel(entry.shape);
    parameters += n;
    weightBytes += n * DTYPE_BYTES[entry.dtype];
    dtypes[entry.dtype] = (dtypes[entry.dtype] ?? 0) + n;
  }
  const files = m.files.map((name) => ({ name, bytes: statSync(join(m.dir, name)).size }));
  const archs = m.configJson.architectures;
  return {
    dir: m.dir,
    architecture: m.config.architecture,
    architectureClass: Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : undefined,
    vocabSize: m.config.vocabSize,
    hiddenSize: m.config.hiddenSize,
    intermediateSize: m.config.intermediateSize,
    numHiddenLayers: m.config.numHiddenLayers,
    numAttentionHeads: m.config.numAttentionHeads,
    numKeyValueHeads: m.config.numKeyValueHeads,
    headDim: m.config.headDim,
    tieWordEmbeddings: m.config.tieWordEmbeddings,
    architectureNotes: architectureNotes(m.config, parameters),
    parameters,
    dtypes,
    weightBytes,
    files,
    totalBytes: files.reduce((s, f) => s + f.bytes, 0),
    onnx: m.files.filter((f) => f.endsWith('.onnx')),
    extraTensors: m.extraTensors,
  };
}

function architectureNotes(cfg: LlamaConfig, parameters: number): string[] {
  if (cfg.phi) {
    const rotary = Math.floor(cfg.headDim * cfg.phi.partialRotaryFactor);
    return [`partial rotary ${cfg.phi.partialRotaryFactor} (${rotary} of ${cfg.headDim} features), LayerNorm eps ${cfg.phi.layerNormEps}, parallel attention and MLP`];
  }
  if (!cfg.moe) return [];
  const m = cfg.moe;
  // A token runs k of the E experts: the other E − k experts' three projections per layer are idle.
  const idle = cfg.numHiddenLayers * (m.numExperts - m.numExpertsPerTok) * 3 * cfg.hiddenSize * m.moeIntermediateSize;
  return [
    `experts ${m.numExperts} of width ${m.moeIntermediateSize}, top ${m.numExpertsPerTok}${m.normTopkProb ? ' (renormalised)' : ''}, shared expert ${m.sharedExpertIntermediateSize}`,
    `active      ${formatCount(parameters - idle)} parameters per token`,
  ];
}

/** Human-readable lines of a ModelInfo (the CLI prints them; library code does not). */
export function formatModelInfo(info: ModelInfo): string[] {
  const lines = [
    `model dir   ${info.dir}`,
    `arch        ${info.architecture}${info.architectureClass ? ` (${info.architectureClass})` : ''}`,
    `shape       vocab ${info.vocabSize}, hidden ${info.hiddenSize}, mlp ${info.intermediateSize}, layers ${info.numHiddenLayers}, heads ${info.numAttentionHeads} (kv ${info.numKeyValueHeads}, head_dim ${info.headDim})${info.tieWordEmbeddings ? ', tied embeddings' : ''}`,
    ...info.architectureNotes.map((n) => (n.startsWith('active') ? n : `            ${n}`)),
    `parameters  ${formatCount(info.parameters)} (${Object.entries(info.dtypes).map(([d, n]) => `${d} ${formatCount(n)}`).join(', ')})`,
    `weights     ${formatBytes(info.weightBytes)}`,
    `files       ${info.files.length}, ${formatBytes(info.totalBytes)} in all`,
  ];
  for (const f of info.files) lines.push(`  ${f.name.padEnd(40)} ${formatBytes(f.bytes).padStart(10)}`);
  if (info.extraTensors.length > 0) lines.push(`extra tensors (ignored): ${info.extraTensors.join(', ')}`);
  return lines;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
