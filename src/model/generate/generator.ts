/**
 * Text generation on the ONNX decoder: chat template → token ids → batched prefill with left
 * padding → one-token decode steps on the KV cache → sampled ids → text.
 *
 * Reproducibility: each request draws from its own Prng stream (seed forked by the request's
 * label), so a request's text does not depend on which other requests share its batch, up to
 * float differences from batch shapes (onnxruntime kernels may reduce in another order for
 * another batch size — the same batch_size and thread count give byte-identical text).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Prng } from '../../core/prng.js';
import { DataError, InternalError } from '../../core/errors.js';
import type { ChatMessage } from '../../formats/chatml.js';
import type { LlamaConfig } from '../config.js';
import { buildDecoderGraph } from '../decoder/graph.js';
import { checkGraphSupport, onnxFileFor, readQuantizationConfig, type QuantizationSettings } from '../decoder/export.js';
import { DecoderRunner } from '../decoder/runner.js';
import { CONFIG_FILE, inspectModelDir, loadModelDir } from '../model-dir.js';
import { sessionFromGraph } from '../onnx/session.js';
import { loadTokenizer, type Tokenizer } from '../tokenizer/index.js';
import { readPeftAdapter, type PeftAdapter } from './adapter.js';
import { checkSampling, sampleToken, type SamplingOptions } from './sampling.js';

export interface LoadGeneratorOptions {
  /** A PEFT LoRA adapter applied as side branches on the (possibly quantized) base. */
  adapterDir?: string;
  threads: number;
  /** Scratch dir for graphs over 2 GB. */
  scratchDir?: string;
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed: number;
  /** Requests per batch (left-padded together). Default 8. */
  batchSize?: number;
  /** Called after each batch with the number of requests done. */
  onProgress?: (done: number, total: number) => void;
  /** Called with each new token of request `index` (streaming). */
  onToken?: (index: number, tokenId: number) => void;
  signal?: AbortSignal;
}

export interface GenerateRequest {
  /** Prompt token ids. */
  ids: number[];
  /** Names the request's random stream (a record id); default its index. */
  label?: string;
}

export interface GenerationResult {
  /** Completion token ids (without the stop token). */
  tokens: number[];
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: 'stop' | 'length';
}

export interface GeneratorInfo {
  modelDir: string;
  /** Where the graph came from: an ONNX file of the dir, or built in memory (adapter or no file). */
  graph: string;
  quantization?: QuantizationSettings;
  adapter?: { dir: string; r: number; loraAlpha: number; modules: number };
}

export class TextGenerator {
  private constructor(
    readonly cfg: LlamaConfig,
    readonly tokenizer: Tokenizer,
    private readonly runner: DecoderRunner,
    readonly eosIds: Set<number>,
    readonly padId: number,
    readonly info: GeneratorInfo,
  ) {}

  static async load(modelDir: string, options: LoadGeneratorOptions): Promise<TextGenerator> {
    const inspected = inspectModelDir(modelDir);
    const cfg = inspected.config;
    checkGraphSupport(inspected.configJson, join(inspected.dir, CONFIG_FILE));
    const quantization = readQuantizationConfig(inspected.configJson, join(inspected.dir, CONFIG_FILE));
    const tokenizer = await loadTokenizer(inspected.dir);
    // Checked before any ORT session exists, so this error leaks none.
    const eos = new Set(cfg.eosTokenId);
    const tokEos = (tokenizer as unknown as { eos_token_id?: number }).eos_token_id;
    if (typeof tokEos === 'number') eos.add(tokEos);
    if (eos.size === 0) throw new DataError('bad-config', `${join(inspected.dir, CONFIG_FILE)}: no eos_token_id (in config.json or the tokenizer); generation could not stop`, { location: { file: join(inspected.dir, CONFIG_FILE) } });
    const padId = cfg.padTokenId ?? [...eos][0]!;
    const onnxFile = onnxFileFor(quantization).file;
    let runner: DecoderRunner;
    let adapter: PeftAdapter | undefined;
    let graph: string;
    if (!options.adapterDir && existsSync(join(inspected.dir, onnxFile))) {
      runner = await DecoderRunner.create(cfg, join(inspected.dir, onnxFile), options.threads);
      graph = onnxFile;
    } else {
      adapter = options.adapterDir ? readPeftAdapter(options.adapterDir, cfg) : undefined;
      const { weights } = loadModelDir(inspected.dir);
      const built = buildDecoderGraph(cfg, weights, { quantization, lora: adapter?.branches });
      runner = await DecoderRunner.create(cfg, await sessionFromGraph(built, { threads: options.threads }, options.scratchDir), options.threads);
      graph = 'built in memory';
    }
    const info: GeneratorInfo = {
      modelDir: inspected.dir,
      graph,
      quantization,
      adapter: adapter && { dir: adapter.dir, r: adapter.r, loraAlpha: adapter.loraAlpha, modules: adapter.branches.size },
    };
    return new TextGenerator(cfg, tokenizer, runner, eos, padId, info);
  }

  /** Prompt ids of a chat: the template with the assistant turn opened. */
  encodeChat(messages: ChatMessage[]): number[] {
    const out = this.tokenizer.apply_chat_template(messages as never, { add_generation_prompt: true, tokenize: true, return_tensor: false, return_dict: false }) as unknown;
    // transformers.js 4 returns {input_ids, attention_mask} even with return_dict false.
    const ids = Array.isArray(out) ? out : (out as { input_ids: ArrayLike<number> }).input_ids;
    return Array.from(ids, Number);
  }

  /** Prompt ids of plain text (no template, no special tokens added). */
  encodeText(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false });
  }

  decode(ids: number[]): string {
    // An empty answer (end-of-sequence as the first token) is a valid answer; transformers.js
    // throws "token_ids must be a non-empty array of integers" on [].
    if (ids.length === 0) return '';
    return this.tokenizer.decode(ids, { skip_special_tokens: true });
  }

  /** Generates for every request, in order, batching `batchSize` at a time. */
  async generate(requests: GenerateRequest[], options: GenerateOptions): Promise<GenerationResult[]> {
    checkSampling(options);
    if (!Number.isInteger(options.maxNewTokens) || options.maxNewTokens < 1) throw new InternalError(`max_new_tokens must be a positive integer, got ${options.maxNewTokens}`);
    const batchSize = Math.max(1, options.batchSize ?? 8);
    const root = new Prng(options.seed);
    const results: GenerationResult[] = [];
    for (let start = 0; start < requests.length; start += batchSize) {
      options.signal?.throwIfAborted();
      const batch = requests.slice(start, start + batchSize);
      const prngs = batch.map((r, i) => root.fork(r.label ?? String(start + i)));
      results.push(...(await this.generateBatch(batch.map((r) => r.ids), prngs, options, start)));
      options.onProgress?.(results.length, requests.length);
    }
    return results;
  }

  private async generateBatch(prompts: number[][], prngs: Prng[], options: GenerateOptions, offset: number): Promise<GenerationResult[]> {
    const B = prompts.length, V = this.cfg.vocabSize;
    const width = Math.max(...prompts.map((p) => p.length));
    const maxPos = this.cfg.maxPositionEmbeddings;
    prompts.forEach((p, i) => {
      if (p.length === 0) throw new InternalError(`request ${offset + i}: empty prompt`);
      if (p.length >= maxPos) throw new InternalError(`request ${offset + i}: prompt of ${p.length} tokens does not fit the model's ${maxPos} positions`);
    });
    // Decoding stops where the longest prompt would run out of positions.
    const steps = Math.min(options.maxNewTokens, maxPos - width);
    const mask = prompts.map((p) => [...Array(width - p.length).fill(0), ...p.map(() => 1)]);
    const positions = prompts.map((p) => p.map((_, t) => t));
    this.runner.reset();
    let out = await this.runner.step({
      inputIds: prompts.map((p) => [...Array(width - p.length).fill(this.padId), ...p]),
      attentionMask: mask,
      positionIds: prompts.map((p, b) => [...Array(width - p.length).fill(1), ...positions[b]!]),
    });
    let lastOffset = (b: number) => (b * width + width - 1) * V;
    const tokens: number[][] = prompts.map(() => []);
    const done: Array<GenerationResult['finishReason'] | undefined> = prompts.map(() => undefined);
    for (let step = 0; step < steps; step++) {
      options.signal?.throwIfAborted();
      const next: number[] = [];
      for (let b = 0; b < B; b++) {
        if (done[b]) {
          next.push(this.padId);
          continue;
        }
        const id = sampleToken(out.logits.subarray(lastOffset(b), lastOffset(b) + V), options, prngs[b]!);
        next.push(id);
        if (this.eosIds.has(id)) done[b] = 'stop';
        else {
          tokens[b]!.push(id);
          options.onToken?.(offset + b, id);
          if (tokens[b]!.length >= options.maxNewTokens) done[b] = 'length';
        }
      }
      if (done.every((d) => d) || step === steps - 1) break;
      for (const m of mask) m.push(1);
      out = await this.runner.step({ inputIds: next.map((id) => [id]), attentionMask: mask, positionIds: prompts.map((p) => [p.length + step]) }); // the token chosen at `step` sits at position len + step
      lastOffset = (b: number) => b * V;
    }
    this.runner.reset();
    return prompts.map((p, b) => ({ tokens: tokens[b]!, text: this.decode(tokens[b]!), promptTokens: p.length, completionTokens: tokens[b]!.length, finishReason: done[b] ?? 'length' }));
  }

  async release(): Promise<void> {
    await this.runner.release();
  }
}

/** One-shot: load a model, apply the chat template to `prompt` as a user message, generate. */
export async function generateText(modelDir: string, prompt: string, options: Partial<GenerateOptions> & { adapterDir?: string; threads?: number; system?: string } = {}): Promise<GenerationResult> {
  const generator = await TextGenerator.load(modelDir, { adapterDir: options.adapterDir, threads: options.threads ?? 1 });
  try {
    const messages: ChatMessage[] = [...(options.system ? [{ role: 'system' as const, content: options.system }] : []), { role: 'user', content: prompt }];
    const [result] = await generator.generate([{ ids: generator.encodeChat(messages), label: 'prompt' }], {
      doSample: options.doSample ?? false,
      temperature: options.temperature ?? 1,
      topK: options.topK ?? 0,
      topP: options.topP ?? 1,
      maxNewTokens: options.maxNewTokens ?? 128,
      seed: options.seed ?? 0,
      onToken: options.onToken,
      signal: options.signal,
    });
    return result!;
  } finally {
    await generator.release();
  }
}
