import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';

export interface ReportParams {
  title: string;
  compare_paper: boolean;
  labels: Record<string, string>;
}

/**
 * Renders the paper's Table II and Table III (Markdown, CSV, LaTeX) and its Figures 4 and 5
 * (SVG) from one or more `scores` inputs, one row per input (e.g. one per model of a matrix).
 */
const stage: StageDefinition<ReportParams> = {
  type: 'report',
  version: 1,
  description: "Tables II/III (Markdown, CSV, LaTeX) and SVG charts from one or more score outputs, optionally beside the paper's numbers",
  produces: 'report',
  consumes: { scores: { kinds: ['scores'] } },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  async run(ctx) {
    const { join } = await import('node:path');
    const { readFileSync, existsSync } = await import('node:fs');
    const { writeFileAtomic } = await import('../../src/core/atomic.js');
    const { UserError, DataError } = await import('../../src/core/errors.js');
    const { buildReport, runLabel } = await import('../../src/report/report.js');
    type ReportRun = import('../../src/report/report.js').ReportRun;

    const inputs = Object.values(ctx.inputs).filter((r) => r.kind === 'scores').sort((a, b) => (a.stageId < b.stageId ? -1 : a.stageId > b.stageId ? 1 : 0));
    if (inputs.length === 0) throw new UserError('stage-input', `stage "${ctx.stageId}" needs at least one "scores" input (a score stage in needs:)`);
    const runs: ReportRun[] = [];
    for (const [i, ref] of inputs.entries()) {
      const metricsFile = join(ref.dir, 'metrics.json');
      let metrics: { overall?: Record<string, number | null>; by_domain?: Record<string, Record<string, number | null>> };
      try {
        metrics = JSON.parse(readFileSync(metricsFile, 'utf8'));
      } catch (err) {
        throw new DataError('bad-scores', `stage "${ctx.stageId}": cannot read ${metricsFile} from input "${ref.stageId}": ${(err as Error).message}`, { cause: err });
      }
      const words: Record<string, number[]> = {};
      const recordsFile = join(ref.dir, 'records.jsonl');
      if (existsSync(recordsFile)) {
        for (const [n, line] of readFileSync(recordsFile, 'utf8').split('\n').entries()) {
          if (!line.trim()) continue;
          let r: { domain?: string; prediction_words?: number };
          try {
            r = JSON.parse(line) as typeof r;
          } catch (err) {
            throw new DataError('bad-scores', `stage "${ctx.stageId}": ${recordsFile}:${n + 1} from input "${ref.stageId}" is not JSON: ${(err as Error).message}`, { cause: err, location: { file: recordsFile, line: n + 1 } });
          }
          if (r === null || typeof r !== 'object') continue;
          if (typeof r.prediction_words !== 'number') continue;
          (words[r.domain ?? 'unknown'] ??= []).push(r.prediction_words);
        }
      }
      runs.push({ label: ctx.params.labels[ref.stageId] ?? runLabel(ref.stageId), overall: metrics.overall ?? {}, byDomain: metrics.by_domain ?? {}, answerWordsByDomain: words });
      ctx.progress(i + 1, inputs.length + 1, 'reading scores');
    }
    const files = buildReport(runs, { comparePaper: ctx.params.compare_paper, title: ctx.params.title });
    for (const [name, content] of Object.entries(files)) writeFileAtomic(join(ctx.outDir, name), content);
    ctx.progress(inputs.length + 1, inputs.length + 1, 'done');
    ctx.log.info(`report: ${runs.length} run(s), ${Object.keys(files).length} files`);
    ctx.recordProvenance({ report: { runs: inputs.map((r, i) => ({ stageId: r.stageId, digest: r.digest, label: runs[i]!.label })), files: Object.keys(files).sort() } });
  },
};

export default stage;
