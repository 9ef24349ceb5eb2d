/**
 * The paper's Table II (models × metrics) and Table III (per domain, the top model by BLEU with
 * its BLEU, ROUGE-1 and quality) from several score outputs, as Markdown, CSV and LaTeX, with
 * the paper's published numbers beside them on request; a per-domain table of every run; persona
 * consistency per run; with a base/fine-tuned pair, the paired-bootstrap comparison
 * (comparison.ts) as comparison.{md,csv,tex,json}; and the SVG charts of Figures 4 and 5 plus the
 * comparison's differences with their intervals.
 */
import { readJsonAsset } from '../core/paths.js';
import { barChartSvg, boxPlotSvg, intervalChartSvg, type Bar } from './charts.js';
import { compareRuns, LOWER_IS_BETTER, verdict, type ComparisonEntry, type RecordRow } from './comparison.js';
import { baselineReport, type BaselineReport, type SplitRecord } from './baselines.js';
import { toCsv, toLatex, toMarkdown, type Cell, type Table } from './tables.js';

type Metrics = Record<string, number | null | undefined>;

export interface ReportRun {
  /** Row label: the model (matrix value) or stage id. */
  label: string;
  /** The score stage's id (what `comparison.base` / `comparison.finetuned` name). */
  stageId?: string;
  overall: Metrics;
  byDomain: Record<string, Metrics>;
  /** Length of each prediction in characters, per domain (Figure 5, as the paper); empty when records are absent. */
  answerCharsByDomain: Record<string, number[]>;
  /** Per-record scores (records.jsonl), for the paired comparison. */
  records?: RecordRow[];
  /** metrics.json → distribution: the summary and the per-question values. */
  distribution?: { summary?: Metrics; questions?: Record<string, Metrics> };
}

export interface ReportOptions {
  comparePaper: boolean;
  title: string;
  /** Paired comparison of two runs, by stage id (or label). */
  comparison?: { base: string; finetuned: string; samples: number; confidence: number; seed: number };
  /** The ChatML splits the runs answered (train and test): with a comparison, answer_match's baselines (baselines.ts). */
  splits?: { train: readonly SplitRecord[]; test: readonly SplitRecord[] };
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

const METRIC_HEADERS: Record<string, string> = {
  ...Object.fromEntries(TABLE2_COLUMNS),
  rougeLsum: 'RLsum', answer_match: 'Answer match', answer_distance: 'Answer distance',
  wasserstein: 'Wasserstein', jsd: 'JSD', variance_ratio: 'Variance ratio',
};

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

/**
 * The paper's Table III: per domain, the run with the highest BLEU. A tie at the top (e.g. every
 * run at 0) names no model: "tie (k runs)", with the tied value.
 */
export function table3(runs: readonly ReportRun[], comparePaper: boolean): Table {
  const domains = [...new Set(runs.flatMap((r) => Object.keys(r.byDomain)))].sort();
  const paper = comparePaper ? paperTables() : undefined;
  const rows: Cell[][] = domains.map((d) => {
    const scored = runs.filter((r) => num(r.byDomain[d]?.bleu) !== null);
    const top = Math.max(...scored.map((r) => r.byDomain[d]!.bleu as number));
    const best = scored.filter((r) => r.byDomain[d]!.bleu === top);
    const m = best.length === 1 ? best[0]!.byDomain[d]! : {};
    const label = best.length === 0 ? null : best.length === 1 ? best[0]!.label : `tie (${best.length} runs)`;
    const row: Cell[] = [d, label, best.length === 0 ? null : top, num(m.rouge1), num(m.quality)];
    if (paper) {
      const p = paper.table3.find((x) => x.domain === d);
      row.push(p?.model ?? null, p?.bleu ?? null, p?.rouge1 ?? null, p?.quality ?? null);
    }
    return row;
  });
  const columns = ['Domain', 'Top model', 'BLEU', 'R1', 'Qual.'];
  if (paper) columns.push('Paper model', 'Paper BLEU', 'Paper R1', 'Paper Qual.');
  return { caption: `Table III: per domain, the top model by BLEU (a tie at the top names no model).${paper ? ` Paper columns: ${paper.citation}` : ''}`, columns, rows };
}

const DOMAIN_METRICS: Array<[string, string]> = [['bleu', 'BLEU'], ['rougeL', 'RL'], ['quality', 'Qual.'], ['answer_match', 'Answer match']];

/** Every run per domain (the comparison's Table III): BLEU, ROUGE-L, quality, answer_match. */
export function domainTable(runs: readonly ReportRun[]): Table {
  const domains = [...new Set(runs.flatMap((r) => Object.keys(r.byDomain)))].sort();
  const columns = ['Domain', ...DOMAIN_METRICS.flatMap(([, h]) => runs.map((r) => `${h}: ${r.label}`))];
  const rows: Cell[][] = domains.map((d) => [d, ...DOMAIN_METRICS.flatMap(([k]) => runs.map((r) => num(r.byDomain[d]?.[k])))]);
  return { caption: 'Table III (all runs): per domain, each run side by side.', columns, rows };
}

/** Persona consistency per run: closed-answer agreement and distribution fidelity against the references. */
export function consistencyTable(runs: readonly ReportRun[]): Table {
  const rows: Cell[][] = runs.map((r) => {
    const s = r.distribution?.summary ?? {};
    return [r.label, num(r.overall.answer_match), num(r.overall.answer_distance), num(s.wasserstein), num(s.jsd), num(s.variance_ratio), num(s.questions)];
  });
  return {
    caption: 'Persona consistency: answer_match and answer_distance on closed items; per-question Wasserstein (scale points), JSD (bits) and variance ratio of the answer distributions against the references (means over questions).',
    columns: ['Model', 'Answer match', 'Answer distance', 'Wasserstein', 'JSD', 'Variance ratio', 'Questions'],
    rows,
  };
}

export function comparisonTable(entries: readonly ComparisonEntry[], labels: { base: string; finetuned: string }, confidence: number): Table {
  const pct = Math.round(confidence * 100);
  return {
    caption: `Base vs fine-tuned: means over the same units, the difference (fine-tuned − base) and its paired-bootstrap ${pct} % interval. Base: ${labels.base}; fine-tuned: ${labels.finetuned}. Lower is better for answer distance, Wasserstein and JSD; variance ratio is best at 1.`,
    columns: ['Metric', 'Base', 'Fine-tuned', 'Δ', `${pct} % CI low`, `${pct} % CI high`, 'n', 'Unit', 'Verdict'],
    rows: entries.map((e) => [METRIC_HEADERS[e.metric] ?? e.metric, e.base, e.finetuned, e.delta, e.ci_low, e.ci_high, String(e.n), e.unit, verdict(e)]),
  };
}

const BASELINE_LABELS: Record<string, string> = {
  chance: 'chance (uniform over the scale)',
  persona_blind_majority: "persona-blind: the question's majority answer in training",
  persona_blind_marginal: "persona-blind: sampled from the question's training answers",
};

/**
 * answer_match of every system per group (all closed items, then each closed type), and
 * fine-tuned − system with its paired interval over all closed items.
 */
export function baselineTable(b: BaselineReport, labels: { base: string; finetuned: string }): Table {
  const pct = Math.round(b.confidence * 100);
  const all = b.groups.find((g) => g.group === 'all')!;
  const others = b.groups.filter((g) => g.group !== 'all');
  const name = (system: string): string => (system === 'base' ? labels.base : system === 'finetuned' ? labels.finetuned : BASELINE_LABELS[system] ?? system);
  const rows: Cell[][] = all.rows.map((r) => [
    name(r.system),
    r.answer_match,
    r.delta_finetuned ?? null,
    r.ci_low ?? null,
    r.ci_high ?? null,
    ...others.map((g) => g.rows.find((x) => x.system === r.system)?.answer_match ?? null),
  ]);
  return {
    caption: `answer_match on the closed test items beside chance and a persona-blind answerer (one that learned each question's answers in the training split but not the persona), over the comparison's units; Δ and the paired-bootstrap ${pct} % interval are fine-tuned − that row.${b.fallbacks > 0 ? ` ${b.fallbacks} test item(s) had a question absent from training (the type's answers were used).` : ''}`,
    columns: ['System', `All closed (n=${all.n})`, 'Δ fine-tuned − row', `${pct} % CI low`, `${pct} % CI high`, ...others.map((g) => `${g.group} (n=${g.n})`)],
    rows,
  };
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'run';
}

function findRun(runs: readonly ReportRun[], id: string): ReportRun | undefined {
  return runs.find((r) => r.stageId === id) ?? runs.find((r) => r.label === id);
}

/** Every report file, name → content (deterministic for the same runs and options). */
export function buildReport(runs: readonly ReportRun[], options: ReportOptions): Record<string, string> {
  const files: Record<string, string> = {};
  const sections: string[] = [`# ${options.title}`, ''];
  const charts: Array<[file: string, caption: string]> = [];
  const tables: Array<[string, Table]> = [];

  if (options.comparison) {
    const c = options.comparison;
    const base = findRun(runs, c.base);
    const finetuned = findRun(runs, c.finetuned);
    if (base && finetuned) {
      const entries = compareRuns(
        { records: base.records ?? [], questions: questionValues(base) },
        { records: finetuned.records ?? [], questions: questionValues(finetuned) },
        { samples: c.samples, confidence: c.confidence, seed: c.seed },
      );
      const baselines = options.splits ? baselineReport(base.records ?? [], finetuned.records ?? [], options.splits.train, options.splits.test, { samples: c.samples, confidence: c.confidence, seed: c.seed }) : null;
      const all = baselines?.groups.find((g) => g.group === 'all');
      const baselineOf = (system: string): number | undefined => all?.rows.find((r) => r.system === system)?.answer_match;
      files['comparison.json'] = `${JSON.stringify(entries.map((e) => ({
        metric: e.metric, base: e.base, finetuned: e.finetuned, delta: e.delta, ci_low: e.ci_low, ci_high: e.ci_high, n: e.n, unit: e.unit,
        // answer_match's reference points over the same units (baselines.json has their intervals)
        ...(e.metric === 'answer_match' && all && all.n === e.n ? { chance: baselineOf('chance'), persona_blind: baselineOf('persona_blind_majority') } : {}),
      })), null, 2)}\n`;
      const t = comparisonTable(entries, { base: base.label, finetuned: finetuned.label }, c.confidence);
      tables.push(['comparison', t]);
      sections.push('## Base vs fine-tuned', '', toMarkdown(t));
      if (baselines) {
        files['baselines.json'] = `${JSON.stringify(baselines, null, 2)}\n`;
        const tb = baselineTable(baselines, { base: base.label, finetuned: finetuned.label });
        tables.push(['baselines', tb]);
        sections.push('### answer_match against chance and a persona-blind answerer', '', toMarkdown(tb));
      }
      const recordEntries = entries.filter((e) => e.unit === 'record');
      files['comparison-ci.svg'] = intervalChartSvg(`Fine-tuned − base, ${Math.round(c.confidence * 100)} % paired-bootstrap intervals`, 'difference of means', recordEntries.map((e) => ({ label: METRIC_HEADERS[e.metric] ?? e.metric, value: e.delta, low: e.ci_low, high: e.ci_high, lowerIsBetter: LOWER_IS_BETTER.has(e.metric) })));
      charts.push(['comparison-ci.svg', 'Differences per record metric with their intervals (green: the interval is above 0, red: below).']);
    }
  }

  const t2 = table2(runs, options.comparePaper);
  const t3 = table3(runs, options.comparePaper);
  tables.push(['table2', t2], ['table3', t3]);
  sections.push('## Table II', '', toMarkdown(t2), '## Table III', '', toMarkdown(t3));
  if (runs.length > 1) {
    const td = domainTable(runs);
    tables.push(['table3-runs', td]);
    sections.push(toMarkdown(td));
  }
  const tc = consistencyTable(runs);
  tables.push(['consistency', tc]);
  sections.push('## Persona consistency', '', toMarkdown(tc));
  for (const [name, t] of tables) {
    files[`${name}.md`] = toMarkdown(t);
    files[`${name}.csv`] = toCsv(t);
    files[`${name}.tex`] = toLatex(t);
  }

  const bars: Bar[] = runs.map((r) => ({ label: r.label, value: num(r.overall.bleu) ?? 0 }));
  if (options.comparePaper) {
    const paper = paperTables();
    const k = paper.table2.columns.indexOf('bleu');
    for (const p of paper.table2.rows) bars.push({ label: `${p.model} (paper)`, value: p.values[k]!, kind: 'paper' });
  }
  files['bleu-by-model.svg'] = barChartSvg('Figure 4: BLEU per model', 'BLEU (mean sentence BLEU)', bars);
  charts.push(['bleu-by-model.svg', `Figure 4: BLEU per model${options.comparePaper ? ", the paper's Table II in grey" : ''}.`]);
  for (const r of runs) {
    const domains = Object.keys(r.answerCharsByDomain).sort();
    if (domains.length === 0) continue;
    const name = `answer-length-by-domain-${slug(r.label)}.svg`;
    files[name] = boxPlotSvg(`Figure 5: answer length per domain, ${r.label}`, 'characters per answer', domains.map((d) => ({ label: d, values: r.answerCharsByDomain[d]! })));
    charts.push([name, `Figure 5: answer length in characters per domain (${r.label}); boxes q1–q3, whiskers min–max.`]);
  }
  sections.push('## Figures', '', ...charts.map(([file, caption]) => `${caption}\n\n![${file}](${file})\n`));
  files['report.md'] = sections.join('\n');
  return files;
}

function questionValues(run: ReportRun): Record<string, Record<string, number | null | undefined>> {
  return (run.distribution?.questions ?? {}) as Record<string, Record<string, number | null | undefined>>;
}
