import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';

export interface ScoreParams {
  metrics: string[];
  by: Array<'domain' | 'question_type'>;
  bertscore: { model_type: string; num_layers: number; idf: boolean; rescale_with_baseline: boolean; baseline: [number, number, number] };
}

/**
 * Scores `predictions.jsonl` of the upstream `predictions` artifact with the paper's metric
 * stack (src/metrics): writes metrics.json (overall, by domain, by question type,
 * distribution) and records.jsonl. Bad lines are listed in metrics.json, never fatal.
 */
const stage: StageDefinition<ScoreParams> = {
  type: 'score',
  version: 2, // 2: quality redefined (form × completeness × wordness × repetition × relevance), prediction_chars in records.jsonl, VADER with emoji
  description: 'Scores predictions.jsonl: BLEU (NLTK/sacrebleu), ROUGE (rouge-score), distinct-n, survey metrics, distribution fidelity; writes metrics.json + records.jsonl',
  reproducibility: 'float',
  produces: 'scores',
  consumes: { predictions: { kinds: ['predictions'] }, encoder: { kinds: ['model'], optional: true } },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  async run(ctx) {
    const { join } = await import('node:path');
    const { existsSync } = await import('node:fs');
    const { createHash } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    const { UserError } = await import('../../src/core/errors.js');
    const { resolveMetrics, scorePredictionsFile, writeScoreOutputs } = await import('../../src/metrics/score-file.js');
    const input = ctx.input('predictions');
    const file = join(input.dir, 'predictions.jsonl');
    if (!existsSync(file)) throw new UserError('missing-predictions', `stage "${ctx.stageId}": input "${input.stageId}" has no predictions.jsonl in ${input.dir}`);
    const metrics = resolveMetrics(ctx.params.metrics);
    let bertscore: import('../../src/metrics/score-file.js').BertScoreFn | undefined;
    const bs = ctx.params.bertscore;
    if (metrics.some((m) => m.startsWith('bertscore_'))) {
      const encoder = ctx.optionalInput('model');
      if (!encoder) {
        throw new UserError('bertscore-needs-encoder', `stage "${ctx.stageId}": bertscore needs an encoder model in needs: (a BERT/RoBERTa model dir, e.g. a fetch-model stage for ${bs.model_type})`);
      }
      const { bertScoreFromModelDir } = await import('../../src/metrics/bertscore/from-model-dir.js');
      bertscore = await bertScoreFromModelDir(encoder.dir, { numLayers: bs.num_layers, idf: bs.idf, baseline: bs.rescale_with_baseline ? bs.baseline : undefined, threads: ctx.threads });
    }
    const started = performance.now();
    const result = await scorePredictionsFile(file, {
      metrics,
      by: ctx.params.by,
      bertscore,
      signal: ctx.signal,
      onRecord: (done, total) => {
        if (done % 200 === 0 || done === total) ctx.progress(done, total, 'scoring');
      },
    });
    ctx.signal.throwIfAborted();
    writeScoreOutputs(ctx.outDir, result);
    const seconds = (performance.now() - started) / 1000;
    if (result.metrics.skipped.length > 0) {
      ctx.log.warn(`skipped ${result.metrics.skipped.length} bad line(s) of ${file}: ${result.metrics.skipped.slice(0, 5).map((s) => `line ${s.line} (${s.reason})`).join('; ')}`);
    }
    ctx.log.info(`scored ${result.metrics.n} records in ${seconds.toFixed(2)} s`);
    ctx.recordProvenance({
      score: {
        predictions_sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
        records: result.metrics.n,
        skipped: result.metrics.skipped.length,
        metrics,
        seconds,
        records_per_second: seconds > 0 ? result.metrics.n / seconds : null,
        bertscore: bertscore ? { encoder: ctx.optionalInput('model')!.stageId, model_type: bs.model_type, num_layers: bs.num_layers, idf: bs.idf, rescale_with_baseline: bs.rescale_with_baseline, note: 'BERTScore embeddings come from onnxruntime float32 reductions; the last digits can differ with another thread count' } : undefined,
        references: 'NLTK sentence_bleu method1; sacrebleu corpus_bleu 13a/exp; rouge-score use_stemmer=True; vaderSentiment 3.3.2 rules (docs/metrics.md)',
      },
    });
  },
};

export default stage;
