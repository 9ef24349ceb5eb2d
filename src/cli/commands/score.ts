import { resolve } from 'node:path';
import { EXIT, type Command } from '../command.js';
import { intOption, parseCommandArgs } from '../args.js';
import { UserError } from '../../core/errors.js';
import type { CliIO } from '../io.js';

const GROUPINGS = ['domain', 'question_type'] as const;

const command: Command = {
  summary: "score a predictions file with the paper's metric stack",
  usage: `
usage: polypersona score PREDICTIONS.jsonl [options]

Scores JSONL records with \`reference\` and \`prediction\` (plus \`id\`, \`domain\`, \`question_type\`
when present). Prints the overall means (and per group); lines that are not JSON or lack a field
are listed by line number and skipped, the rest is scored. Definitions: docs/metrics.md.

options:
  --metrics LIST     comma-separated metric names or groups (bleu, rouge, bertscore, distinct,
                     survey, lexical, bleu_corpus, rouge1, …); default every lexical and survey metric
  --by LIST          groupings: domain,question_type (default both); --by none for overall only
  --out DIR          also write metrics.json and records.jsonl into DIR
  --encoder DIR      a BERT/RoBERTa model dir for bertscore
  --layer N          its hidden layer (bert-score: 17 for roberta-large, 9 for bert-base-uncased)
  --idf              idf-weighted BERTScore
  --threads N        ONNX Runtime threads for bertscore (default 2)
  --json             print metrics.json on stdout
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs('score', argv, {
      metrics: { type: 'string' },
      by: { type: 'string' },
      out: { type: 'string' },
      encoder: { type: 'string' },
      layer: { type: 'string' },
      idf: { type: 'boolean' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
    });
    const file = positionals[0];
    if (!file) throw new UserError('usage', 'score: which predictions file? (polypersona score PREDICTIONS.jsonl)');
    if (positionals.length > 1) throw new UserError('usage', `score: one predictions file at a time, got ${positionals.length}`);
    const by = parseBy(values.by);
    const { resolveMetrics, scorePredictionsFile, writeScoreOutputs } = await import('../../metrics/score-file.js');
    const metrics = resolveMetrics(values.metrics?.split(',').filter(Boolean));
    const wantsBert = metrics.some((m) => m.startsWith('bertscore'));
    if (wantsBert && !values.encoder) throw new UserError('usage', 'score: bertscore needs --encoder DIR (a BERT or RoBERTa model dir) and --layer N');
    let bertscore;
    if (wantsBert) {
      const layer = intOption('score', 'layer', values.layer);
      if (layer === undefined) throw new UserError('usage', 'score: bertscore needs --layer N (17 for roberta-large, 9 for bert-base-uncased)');
      const { bertScoreFromModelDir } = await import('../../metrics/bertscore/from-model-dir.js');
      bertscore = await bertScoreFromModelDir(resolve(io.cwd, values.encoder!), { numLayers: layer, idf: values.idf === true, threads: intOption('score', 'threads', values.threads) ?? 2 });
    }
    const result = await scorePredictionsFile(resolve(io.cwd, file), { metrics, by, bertscore, signal: io.signal });
    if (values.out) writeScoreOutputs(resolve(io.cwd, values.out), result);
    const m = result.metrics;
    if (values.json) {
      io.stdout.write(`${JSON.stringify(m, null, 2)}\n`);
    } else {
      io.stdout.write(`${m.n} records scored${m.skipped.length ? `, ${m.skipped.length} skipped` : ''}\n\n`);
      const width = Math.max(...m.metrics.map((k) => k.length));
      for (const k of m.metrics) io.stdout.write(`  ${k.padEnd(width)}  ${formatValue(m.overall[k])}\n`);
      for (const [title, groups] of [['domain', m.by_domain], ['question type', m.by_question_type]] as const) {
        if (!groups || Object.keys(groups).length === 0) continue;
        io.stdout.write(`\nby ${title} (bleu / rouge1 / quality):\n`);
        for (const [name, g] of Object.entries(groups)) io.stdout.write(`  ${name.padEnd(22)} ${formatValue(g.bleu)}  ${formatValue(g.rouge1)}  ${formatValue(g.quality)}\n`);
      }
      if (m.skipped.length) {
        io.stdout.write('\nskipped lines:\n');
        for (const s of m.skipped.slice(0, 20)) io.stdout.write(`  ${JSON.stringify(s)}\n`);
        if (m.skipped.length > 20) io.stdout.write(`  … and ${m.skipped.length - 20} more\n`);
      }
      if (values.out) io.stdout.write(`\nwrote metrics.json and records.jsonl to ${values.out}\n`);
    }
    return EXIT.ok;
  },
};

function parseBy(value: string | undefined): Array<(typeof GROUPINGS)[number]> {
  if (value === undefined) return [...GROUPINGS];
  if (value === 'none' || value === '') return [];
  const parts = value.split(',').map((s) => s.trim());
  for (const p of parts) {
    if (!(GROUPINGS as readonly string[]).includes(p)) throw new UserError('usage', `score: --by takes ${GROUPINGS.join(', ')} or none, got "${p}"`);
  }
  return parts as Array<(typeof GROUPINGS)[number]>;
}

function formatValue(v: number | null | undefined): string {
  return v === null || v === undefined ? '   –  ' : v.toFixed(4);
}

export default command;
