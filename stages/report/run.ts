import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactRef, StageContext } from '../../src/engine/contract.js';
import { writeFileAtomic } from '../../src/core/atomic.js';
import { DataError, UserError } from '../../src/core/errors.js';
import { readJsonFile } from '../../src/core/files.js';
import { readChatmlSplit } from '../../src/formats/chatml.js';
import { buildReport, runLabel, type ReportRun } from '../../src/report/report.js';
import type { RecordRow } from '../../src/report/comparison.js';
import type { SplitRecord } from '../../src/report/baselines.js';
import type { ReportParams } from './params.js';

/** Reads metrics.json and records.jsonl of every scores input; writes the report files. */
export async function runReport(ctx: StageContext<ReportParams>): Promise<void> {
  const inputs = Object.values(ctx.inputs).filter((r) => r.kind === 'scores').sort((a, b) => (a.stageId < b.stageId ? -1 : a.stageId > b.stageId ? 1 : 0));
  if (inputs.length === 0) throw new UserError('stage-input', `stage "${ctx.stageId}" needs at least one "scores" input (a score stage in needs:)`);
  const c = ctx.params.comparison;
  if (c) {
    for (const id of [c.base, c.finetuned]) {
      if (!inputs.some((r) => r.stageId === id)) throw new UserError('stage-input', `stage "${ctx.stageId}": comparison names "${id}", which is not one of its scores inputs (${inputs.map((r) => r.stageId).join(', ')})`);
    }
    if (c.base === c.finetuned) throw new UserError('invalid-params', `stage "${ctx.stageId}": comparison.base and comparison.finetuned are both "${c.base}"`);
  }
  const runs: ReportRun[] = [];
  for (const [i, ref] of inputs.entries()) {
    runs.push(readRun(ctx, ref));
    ctx.progress(i + 1, inputs.length + 1, 'reading scores');
  }
  const chatml = ctx.optionalInput('chatml');
  if (chatml && !c) throw new UserError('invalid-params', `stage "${ctx.stageId}": a ChatML input ("${chatml.stageId}") is read only for the comparison's baselines; set comparison: { base, finetuned } or drop it from needs:`);
  const splits = chatml ? { train: readSplit(ctx, chatml, 'train.jsonl'), test: readSplit(ctx, chatml, 'test.jsonl') } : undefined;
  const files = buildReport(runs, {
    comparePaper: ctx.params.compare_paper,
    title: ctx.params.title,
    comparison: c ? { ...c, seed: ctx.seed } : undefined,
    splits,
  });
  for (const [name, content] of Object.entries(files)) writeFileAtomic(join(ctx.outDir, name), content);
  ctx.progress(inputs.length + 1, inputs.length + 1, 'done');
  ctx.log.info(`report: ${runs.length} run(s), ${Object.keys(files).length} files`);
  ctx.recordProvenance({ report: { runs: inputs.map((r, i) => ({ stageId: r.stageId, digest: r.digest, label: runs[i]!.label })), splits: chatml ? { stageId: chatml.stageId, digest: chatml.digest } : undefined, files: Object.keys(files).sort() } });
}

/** The records of one ChatML split file (train.jsonl / test.jsonl) of the baselines' input, read as every ChatML reader reads them. */
function readSplit(ctx: StageContext<ReportParams>, ref: ArtifactRef, name: string): SplitRecord[] {
  const file = join(ref.dir, name);
  if (!existsSync(file)) throw new DataError('missing-split', `stage "${ctx.stageId}": input "${ref.stageId}" has no ${name} in ${ref.dir}`);
  return readChatmlSplit(file) as SplitRecord[];
}

function readRun(ctx: StageContext<ReportParams>, ref: ArtifactRef): ReportRun {
  const metricsFile = join(ref.dir, 'metrics.json');
  const metrics = readJsonFile(metricsFile, `the metrics of input "${ref.stageId}"`) as { overall?: Record<string, number | null>; by_domain?: Record<string, Record<string, number | null>>; distribution?: ReportRun['distribution'] };
  const chars: Record<string, number[]> = {};
  const records: RecordRow[] = [];
  const recordsFile = join(ref.dir, 'records.jsonl');
  if (existsSync(recordsFile)) {
    for (const [n, line] of readFileSync(recordsFile, 'utf8').split('\n').entries()) {
      if (!line.trim()) continue;
      let r: { id?: unknown; domain?: unknown; prediction_chars?: unknown; scores?: unknown };
      try {
        r = JSON.parse(line) as typeof r;
      } catch (err) {
        throw new DataError('bad-scores', `stage "${ctx.stageId}": ${recordsFile}:${n + 1} from input "${ref.stageId}" is not JSON: ${(err as Error).message}`, { cause: err, location: { file: recordsFile, line: n + 1 } });
      }
      if (r === null || typeof r !== 'object') continue;
      const domain = typeof r.domain === 'string' ? r.domain : 'unknown';
      if (typeof r.prediction_chars === 'number') (chars[domain] ??= []).push(r.prediction_chars);
      const scores = r.scores !== null && typeof r.scores === 'object' ? (r.scores as Record<string, number | undefined>) : {};
      records.push({ id: typeof r.id === 'string' ? r.id : undefined, domain, scores });
    }
  }
  return {
    label: ctx.params.labels[ref.stageId] ?? runLabel(ref.stageId),
    stageId: ref.stageId,
    overall: metrics.overall ?? {},
    byDomain: metrics.by_domain ?? {},
    answerCharsByDomain: chars,
    records,
    distribution: metrics.distribution,
  };
}
