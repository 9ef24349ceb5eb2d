import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageContext } from '../../src/engine/contract.js';
import { DataError, StageFailure } from '../../src/core/errors.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { readJsonl } from '../../src/survey/jsonl.js';
import { toJsonl } from '../../src/formats/jsonl.js';
import { joinPredictions, type ForeignLine, type JoinSource } from '../../src/metrics/foreign-predictions.js';
import { predictionsPath, type ImportPredictionsParams } from './params.js';

/** Reads the file; writes predictions.jsonl, rejected.jsonl and import-stats.json. */
export async function runImportPredictions(ctx: StageContext<ImportPredictionsParams>): Promise<void> {
  const file = predictionsPath(ctx.params, ctx.pipelineDir);
  if (!existsSync(file)) throw new DataError('missing-file', `import-predictions: ${file} does not exist`, { location: { file } });
  const lines: ForeignLine[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
    if (text.trim() !== '') lines.push({ line: i + 1, text });
  });
  const dataset = ctx.optionalInput('responses') ?? ctx.optionalInput('chatml');
  let source: JoinSource[] | undefined;
  if (dataset) {
    const files = dataset.kind === 'chatml' ? ['train.jsonl', 'val.jsonl', 'test.jsonl'] : ['dataset.jsonl'];
    source = files.filter((f) => existsSync(join(dataset.dir, f))).flatMap((f) => readJsonl(join(dataset.dir, f)).map((r) => r.value as unknown as JoinSource));
  }
  const result = joinPredictions(lines, ctx.params.fields, source);
  const share = lines.length === 0 ? 1 : result.rejected.length / lines.length;
  if (lines.length === 0) throw new DataError('empty-predictions', `import-predictions: ${file} holds no predictions`, { location: { file } });
  if (share > ctx.params.max_rejected_share) {
    const first = result.rejected.slice(0, 3).map((r) => `line ${r.line}: ${r.reason}`).join('; ');
    throw new StageFailure('import-predictions', `import-predictions: ${result.rejected.length} of ${lines.length} lines of ${file} are unusable (${(100 * share).toFixed(1)}% > max_rejected_share ${(100 * ctx.params.max_rejected_share).toFixed(1)}%); e.g. ${first}`);
  }
  writeFileSync(join(ctx.outDir, 'predictions.jsonl'), toJsonl(result.records));
  writeFileSync(join(ctx.outDir, 'rejected.jsonl'), toJsonl(result.rejected));
  // no path in the hashed output: the same file gives the same digest wherever it lies
  const stats = { lines: lines.length, records: result.records.length, rejected: result.rejected.length, joined: result.joined, unmatched: result.unmatched.length, unmatched_ids: result.unmatched.slice(0, 20), dataset: dataset?.stageId ?? null };
  writeFileSync(join(ctx.outDir, 'import-stats.json'), canonicalJson(stats) + '\n');
  if (result.unmatched.length > 0) ctx.log.warn(`import-predictions: ${result.unmatched.length} record(s) have no match in ${dataset?.stageId}; they lack question and type (e.g. ${result.unmatched.slice(0, 3).join(', ')})`);
  ctx.log.info(`import-predictions: ${result.records.length} predictions from ${file}${dataset ? `, ${result.joined} joined to ${dataset.stageId}` : ''}`);
  ctx.recordProvenance({ importPredictions: { file, ...stats } });
}
