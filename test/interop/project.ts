/**
 * The interop suite's only doorway into the project's internals: everything the tests need that
 * no CLI command exposes (logits, token ids, greedy token ids, BERTScore with a baseline) goes
 * through the few functions here, so a restructuring of src/model touches this file alone.
 * Training and adapter writing go through the real CLI (`polypersona run`), see cli.ts.
 */
import { join } from 'node:path';
import { DataError } from '../../src/core/errors.js';
import { parseModelConfig } from '../../src/model/config.js';
import { readPeftAdapter } from '../../src/model/generate/adapter.js';
import { TextGenerator } from '../../src/model/generate/generator.js';
import { checkGraphSupport } from '../../src/model/decoder/export.js';
import { buildDecoderGraph } from '../../src/model/decoder/graph.js';
import { DecoderRunner } from '../../src/model/decoder/runner.js';
import { CONFIG_FILE, loadModelDir } from '../../src/model/model-dir.js';
import { sessionFromGraph } from '../../src/model/onnx/session.js';
import { loadTokenizer } from '../../src/model/tokenizer/load.js';
import { bertScoreFromModelDir } from '../../src/metrics/bertscore/from-model-dir.js';

/** Does the project's model engine accept this `model_type`? (Asks the config parser, which knows the registry.) */
export function supportsModelType(modelType: string): boolean {
  const minimal = { model_type: modelType, vocab_size: 8, hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 1 };
  try {
    parseModelConfig(minimal, 'probe/config.json');
    return true;
  } catch (err) {
    if (err instanceof DataError && err.code === 'unsupported-architecture') return false;
    return true; // accepted the type, disliked the minimal shape
  }
}

export interface Rows {
  inputIds: number[][];
  attentionMask: number[][];
  positionIds: number[][];
}

export interface ProjectLogits {
  /** [B, T, V] row-major. */
  logits: Float32Array;
  dims: [number, number, number];
}

/**
 * The project's logits for rows fed as the generator feeds them. `splitAt` runs the first
 * `splitAt` positions as a prefill and the rest as a second step on the KV cache, concatenated.
 * `adapterDir` adds a PEFT LoRA adapter's side branches.
 */
export async function projectLogits(modelDir: string, rows: Rows, options: { splitAt?: number; adapterDir?: string } = {}): Promise<ProjectLogits> {
  const model = loadModelDir(modelDir, { requireTokenizer: false });
  checkGraphSupport(model.configJson, join(model.dir, CONFIG_FILE));
  const lora = options.adapterDir ? readPeftAdapter(options.adapterDir, model.config).branches : undefined;
  const graph = buildDecoderGraph(model.config, model.weights, { lora });
  const runner = await DecoderRunner.create(model.config, await sessionFromGraph(graph, { threads: 1 }), 1);
  try {
    const T = rows.inputIds[0]!.length;
    const cut = options.splitAt ?? T;
    const slice = (m: number[][], a: number, b: number) => m.map((r) => r.slice(a, b));
    const first = await runner.step({ inputIds: slice(rows.inputIds, 0, cut), attentionMask: slice(rows.attentionMask, 0, cut), positionIds: slice(rows.positionIds, 0, cut) });
    if (cut === T) return first;
    const second = await runner.step({ inputIds: slice(rows.inputIds, cut, T), attentionMask: rows.attentionMask, positionIds: slice(rows.positionIds, cut, T) });
    const [B, , V] = first.dims;
    const out = new Float32Array(B * T * V);
    for (let b = 0; b < B; b++) {
      out.set(first.logits.subarray(b * cut * V, (b + 1) * cut * V), b * T * V);
      out.set(second.logits.subarray(b * (T - cut) * V, (b + 1) * (T - cut) * V), (b * T + cut) * V);
    }
    return { logits: out, dims: [B, T, V] };
  } finally {
    await runner.release();
  }
}

/** Token ids of plain texts (no special tokens added) and of chats (the model's chat template, generation prompt opened). */
export async function projectTokenize(modelDir: string, texts: string[], chats: Array<Array<{ role: string; content: string }>>): Promise<{ texts: number[][]; chats: number[][] }> {
  const tokenizer = await loadTokenizer(modelDir);
  const textIds = texts.map((t) => Array.from(tokenizer.encode(t, { add_special_tokens: false }), Number));
  const chatIds = chats.map((messages) => {
    const out = tokenizer.apply_chat_template(messages as never, { add_generation_prompt: true, tokenize: true, return_tensor: false, return_dict: false }) as unknown;
    const ids = Array.isArray(out) ? out : (out as { input_ids: ArrayLike<number> }).input_ids;
    return Array.from(ids, Number);
  });
  return { texts: textIds, chats: chatIds };
}

/** Greedy completions (token ids, stop token excluded) of prompts given as token ids, one at a time. */
export async function projectGreedy(modelDir: string, prompts: number[][], maxNewTokens: number, adapterDir?: string): Promise<number[][]> {
  const generator = await TextGenerator.load(modelDir, { adapterDir, threads: 1 });
  try {
    const results = await generator.generate(prompts.map((ids, i) => ({ ids, label: String(i) })), { doSample: false, temperature: 1, topK: 0, topP: 1, maxNewTokens, seed: 0, batchSize: 1 });
    return results.map((r) => r.tokens);
  } finally {
    await generator.release();
  }
}

export interface BertScoreSettings {
  numLayers: number;
  idf: boolean;
  baseline?: [number, number, number];
}

/** The project's BERTScore (P, R, F per pair) with a BERT model dir. */
export async function projectBertScore(modelDir: string, candidates: string[], references: string[], settings: BertScoreSettings): Promise<Array<{ precision: number; recall: number; f1: number }>> {
  const score = await bertScoreFromModelDir(modelDir, { numLayers: settings.numLayers, idf: settings.idf, baseline: settings.baseline, threads: 1 });
  return score(candidates, references);
}
