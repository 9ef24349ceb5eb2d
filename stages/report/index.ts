import type { StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';

import type { ReportParams } from './params.js';

/**
 * Renders the paper's Table II and Table III (Markdown, CSV, LaTeX), a per-domain table of every
 * run, persona consistency, and Figures 4 and 5 (SVG) from one or more `scores` inputs, one row
 * per input (e.g. one per model of a matrix); with `comparison`, base vs fine-tuned with paired
 * bootstrap intervals (comparison.json); with a ChatML stage in needs: as well, answer_match beside
 * chance and a persona-blind answerer (baselines.json).
 */
const stage: StageDefinition<ReportParams> = {
  type: 'report',
  version: 4, // 2: characters in Figure 5, ties in Table III, the comparison, measured chart layout; 3: answer_match baselines from an optional chatml input; 4: the difference chart coloured by the metric direction (a fall in answer_distance is green)
  description: "Tables II/III (Markdown, CSV, LaTeX), persona consistency and SVG charts from one or more score outputs, optionally beside the paper's numbers and with a base vs fine-tuned paired-bootstrap comparison",
  produces: 'report',
  consumes: { scores: { kinds: ['scores'] }, splits: { kinds: ['chatml'], optional: true } },
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  async run(ctx) {
    const { runReport } = await import('./run.js');
    await runReport(ctx);
  },
};

export default stage;
