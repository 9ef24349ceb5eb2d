import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageContext } from '../../src/engine/contract.js';
import { writeFileAtomic } from '../../src/core/atomic.js';
import { StageFailure } from '../../src/core/errors.js';
import { chatmlPrompt, chatmlSplitFile, readChatmlSplit } from '../../src/formats/chatml.js';
import { parsePredictions, predictionFromChatml, PREDICTIONS_FILE, type PredictionRecord } from '../../src/formats/predictions.js';
import { TextGenerator } from '../../src/model/generate/generator.js';
import type { GenerateParams } from './params.js';

/**
 * Answers every record of the split and writes predictions.jsonl: one prediction record
 * (src/formats/predictions.ts) per ChatML record, carrying its question, question id and answer
 * scale for the score stage. Finished batches are appended to a partial file in the
 * work dir, so a killed run resumes at the next batch with the same batches (and, since each
 * record samples from its own seeded stream, the same text).
 */
export async function runGenerate(ctx: StageContext<GenerateParams>): Promise<void> {
  const p = ctx.params;
  const data = ctx.input('chatml');
  // The base model sits behind the adapter (or is a direct input), never behind the ChatML data.
  const model = ctx.input('model', { transitive: true, via: ['adapter', 'model'] });
  const adapter = ctx.optionalInput('adapter');
  const splitFile = chatmlSplitFile(data.dir, p.split);
  let records = readChatmlSplit(splitFile);
  if (p.limit !== null) records = records.slice(0, p.limit);

  const generator = await TextGenerator.load(model.dir, { threads: ctx.threads, adapterDir: adapter?.dir, scratchDir: ctx.workDir });
  try {
    const prompts = records.map((r) => generator.encodeChat(chatmlPrompt(r)));
    const maxPos = generator.cfg.maxPositionEmbeddings;
    const tooLong = records.filter((_, i) => prompts[i]!.length >= maxPos).map((r) => r.id);
    if (tooLong.length > 0) {
      throw new StageFailure('prompt-too-long', `${splitFile}: ${tooLong.length} prompt(s) do not fit the model's ${maxPos} positions: ${tooLong.slice(0, 10).join(', ')}`);
    }

    const partialPath = join(ctx.workDir, 'predictions.partial.jsonl');
    const done = readPartial(partialPath);
    // Only whole batches are ever appended; anything else (or a line torn by a kill mid-append)
    // means the partial file is not ours to continue.
    const resumable = done !== undefined && done.length % p.batch_size === 0 && done.every((d, i) => d.id === records[i]?.id);
    const start = resumable ? done.length : 0;
    if (!resumable) writeFileAtomic(partialPath, '');
    if (start > 0) ctx.log.info(`resuming after ${start} of ${records.length} records`);

    const seed = p.seed ?? ctx.seed;
    const started = performance.now();
    let newTokens = 0, promptTokens = 0;
    for (let b = start; b < records.length; b += p.batch_size) {
      ctx.signal.throwIfAborted();
      const batch = records.slice(b, b + p.batch_size);
      const results = await generator.generate(
        batch.map((r, i) => ({ ids: prompts[b + i]!, label: r.id })),
        { doSample: p.do_sample, temperature: p.temperature, topP: p.top_p, topK: p.top_k, maxNewTokens: p.max_new_tokens, seed, batchSize: p.batch_size, signal: ctx.signal },
      );
      const lines = batch.map((r, i) => {
        const res = results[i]!;
        newTokens += res.completionTokens;
        promptTokens += res.promptTokens;
        return predictionFromChatml(r, res);
      });
      appendFileSync(partialPath, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
      ctx.progress(Math.min(b + p.batch_size, records.length), records.length, 'records');
    }
    const seconds = (performance.now() - started) / 1000;

    const all = readFileSync(partialPath, 'utf8');
    writeFileAtomic(join(ctx.outDir, PREDICTIONS_FILE), all);
    const finished = parsePredictions(all).records.map((r) => r.record);
    // Deterministic figures only: the published outputs are content-hashed.
    const stats = {
      records: records.length,
      prompt_tokens: finished.reduce((s, r) => s + (r.prompt_tokens ?? 0), 0),
      completion_tokens: finished.reduce((s, r) => s + (r.completion_tokens ?? 0), 0),
      finish_reasons: { stop: finished.filter((r) => r.finish_reason === 'stop').length, length: finished.filter((r) => r.finish_reason === 'length').length },
      sampling: { do_sample: p.do_sample, temperature: p.temperature, top_p: p.top_p, top_k: p.top_k, max_new_tokens: p.max_new_tokens, seed },
      batch_size: p.batch_size,
      graph: generator.info.graph,
      quantization: generator.info.quantization ?? null,
      adapter: generator.info.adapter ? { r: generator.info.adapter.r, lora_alpha: generator.info.adapter.loraAlpha, modules: generator.info.adapter.modules } : null,
    };
    writeFileAtomic(join(ctx.outDir, 'generation-stats.json'), `${JSON.stringify(stats, null, 2)}\n`);
    // Timings vary run to run: they go to provenance (stage.json), not the hashed outputs.
    const throughput = {
      generated_records: records.length - start,
      prompt_tokens: promptTokens,
      completion_tokens: newTokens,
      seconds,
      completion_tokens_per_second: seconds > 0 ? newTokens / seconds : 0,
    };
    ctx.recordProvenance({
      generate: {
        ...stats,
        threads: ctx.threads,
        throughput,
        model: model.dir,
        adapter_dir: adapter?.dir ?? null,
        seed,
        note: 'Text is byte-identical for the same inputs, seed, batch_size and thread count; onnxruntime float reductions may differ with another thread count or batch size, which can flip a near-tied token.',
      },
    });
    ctx.log.info(`generated ${newTokens} tokens for ${records.length - start} records in ${seconds.toFixed(1)} s (${throughput.completion_tokens_per_second.toFixed(1)} tokens/s)`);
  } finally {
    await generator.release();
  }
}

/** The records of a partial file: [] when there is none, undefined when a line is not a prediction record. */
function readPartial(path: string): PredictionRecord[] | undefined {
  if (!existsSync(path)) return [];
  const { records, skipped } = parsePredictions(readFileSync(path, 'utf8'));
  return skipped.length === 0 ? records.map((r) => r.record) : undefined;
}
