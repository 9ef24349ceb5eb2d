/**
 * The paper's Table II (models × metrics) and Table III (per domain, the top model by BLEU with
 * its BLEU, ROUGE-1 and quality) from several score outputs, as Markdown, CSV and LaTeX, with
 * the paper's published numbers beside them on request; plus the SVG charts of Figures 4 and 5.
 */
import { readJsonAsset } from '../core/paths.js';
import { barChartSvg, boxPlotSvg } from './charts.js';
import { toCsv, toLatex, toMarkdown, type Cell, type Table } from './tables.js';

type Metrics = Record<string, number | null | undefined>;

export interface ReportRun {
  /** Row label: the model (matrix value) or stage id. */
  label: string;
  overall: Metrics;
  byDomain: Record<string, Metrics>;
  /** Word counts of the predictions per domain (Figure 5); empty when records are absent. */
  answerWordsByDomain: Record<string, number[]>;
}

interface PaperTables {
  citation: string;
  table2: { columns: string[]; rows: Array<{ model: string; values: number[] }> };
  table3: Array<{ domain: string; model: string; bleu: number; rouge1: number; quality: number }>;
}

export const TABLE2_COLUMNS: Array<[key: string, header: string]> = [
  ['bleu', 'BLEU'], ['rouge1', 'R1'], ['rouge2', 'R2'], ['rougeL', 'RL'], ['bertscore_f1', 'BERT-F1'],
  ['quality', 'Qual.'], ['length_similarity', 'Len.'], ['sentence_similarity', 'Sent.'], ['sentiment_similarity', 'SentSim'],
];

export function paperTables(): PaperTables {
  return readJsonAsset<PaperTables>(import.meta.url, 'paper-tables.json');
}

/** A row label from a stage id: the matrix value(s) in `id[key=value,...]`, else the id. */
export function runLabel(stageId: string): string {
  const m = /\[(.*)\]$/.exec(stageId);
  if (!m) return stageId;
  return m[1]!.split(',').map((kv) => kv.slice(kv.indexOf('=') + 1).trim()).join(', ');
}

const num = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function table2(runs: readonly ReportRun[], comparePaper: boolean): Table {
  const rows: Cell[][] = runs.map((r) => [r.label, ...TABLE2_COLUMNS.map(([k]) => num(r.overall[k]))]);
  let caption = 'Table II: test-set metrics per model.';
  if (comparePaper) {
    const paper = paperTables();
    for (const p of paper.table2.rows) {
      rows.push([`${p.model} (paper)`, ...TABLE2_COLUMNS.map(([k]) => num(p.values[paper.table2.columns.indexOf(k)]))]);
    }
    caption += ` Rows marked (paper): ${paper.citation}`;
  }
  return { caption, columns: ['Model', ...TABLE2_COLUMNS.map(([, h]) => h)], rows };
}

export function table3(runs: readonly ReportRun[], comparePaper: boolean): Table {
  const domains = [...new Set(runs.flatMap((r) => Object.keys(r.byDomain)))].sort();
  const paper = comparePaper ? paperTables() : undefined;
  const rows: Cell[][] = domains.map((d) => {
    let best: ReportRun | undefined;
    for (const r of runs) {
      const b = r.byDomain[d]?.bleu;
      // ties keep the earlier run (runs are sorted by stage id)
      if (typeof b === 'number' && (best === undefined || b > (best.byDomain[d]!.bleu as number))) best = r;
    }
    const m = best?.byDomain[d] ?? {};
    const row: Cell[] = [d, best?.label ?? null, num(m.bleu), num(m.rouge1), num(m.quality)];
    if (paper) {
      const p = paper.table3.find((x) => x.domain === d);
      row.push(p?.model ?? null, p?.bleu ?? null, p?.rouge1 ?? null, p?.quality ?? null);
    }
    return row;
  });
  const columns = ['Domain', 'Top model', 'BLEU', 'R1', 'Qual.'];
  if (paper) columns.push('Paper model', 'Paper BLEU', 'Paper R1', 'Paper Qual.');
  return { caption: `Table III: per domain, the top model by BLEU.${paper ? ` Paper columns: ${paper.citation}` : ''}`, columns, rows };
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'run';
}

/** Every report file, name → content (deterministic for the same runs). */
export function buildReport(runs: readonly ReportRun[], options: { comparePaper: boolean; title: string }): Record<string, string> {
  const files: Record<string, string> = {};
  const t2 = table2(runs, options.comparePaper);
  const t3 = table3(runs, options.comparePaper);
  for (const [name, t] of [['table2', t2], ['table3', t3]] as const) {
    files[`${name}.md`] = toMarkdown(t);
    files[`${name}.csv`] = toCsv(t);
    files[`${name}.tex`] = toLatex(t);
  }
  files['bleu-by-model.svg'] = barChartSvg('BLEU per model', 'BLEU (mean sentence BLEU)', runs.map((r) => ({ label: r.label, value: num(r.overall.bleu) ?? 0 })));
  const charts: string[] = ['bleu-by-model.svg'];
  for (const r of runs) {
    const domains = Object.keys(r.answerWordsByDomain).sort();
    if (domains.length === 0) continue;
    const name = `answer-length-by-domain-${slug(r.label)}.svg`;
    files[name] = boxPlotSvg(`Answer length per domain: ${r.label}`, 'words per answer', domains.map((d) => ({ label: d, values: r.answerWordsByDomain[d]! })));
    charts.push(name);
  }
  files['report.md'] = [
    `# ${options.title}`,
    '',
    toMarkdown(t2),
    toMarkdown(t3),
    ...charts.map((c) => `![${c}](${c})\n`),
  ].join('\n');
  return files;
}
