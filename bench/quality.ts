/**
 * `npm run bench -- quality DIR`: the quality metric as a classifier on REAL answers — the
 * public PolyPersona replication's, in DIR (a folder the user has; never a test, since a fresh
 * clone has no such data). Its test split's references (answers written by
 * an instruction-tuned 7B model) are the real answers (label 1), the same six corruption kinds as
 * the test's labelled set (src/metrics/quality/labelled-set.ts) the negatives; the predictions
 * file of that repository (its fine-tuned TinyLlama's answers) is scored too. Questions and types
 * come from the test split, joined by id; answers are grouped by question TEXT (the split's
 * meta.question_id is unique per record there, not an item id). Prints ROC AUC overall, per corruption and per question
 * type, the mean quality of each set, and the scoring time beside a ceiling measured in the same
 * run (reading + JSON-parsing the same records, no metric).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { scorePredictions } from '../src/metrics/score-file.js';
import { CORRUPTIONS, labelledPredictions, rocAuc, type Corruption, type LabelledItem } from '../src/metrics/quality/labelled-set.js';
import type { PredictionRecord } from '../src/formats/predictions.js';

interface TestRecord {
  id: string;
  domain: string;
  question: string;
  question_type: string;
  reference: string;
  meta?: { question_id?: string };
}

async function qualities(records: Array<PredictionRecord & { reference: string }>): Promise<number[]> {
  const result = await scorePredictions(records.map((record, i) => ({ line: i + 1, record })), { metrics: ['quality'], by: [] });
  return result.records.map((r) => r.scores.quality!);
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export default async function run(args: string[]): Promise<void> {
  if (args[0] === undefined) {
    console.log('quality bench: pass the PolyPersona replication folder (the one holding generated_data_2_test.json) as the argument');
    return;
  }
  const dir = resolve(args[0]);
  const testFile = join(dir, 'generated_data_2_test.json');
  if (!existsSync(testFile)) {
    console.log(`quality bench: ${testFile} not found; pass the replication folder as the argument`);
    return;
  }
  const started = performance.now();
  const test = readFileSync(testFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as TestRecord);
  const ceilingSeconds = (performance.now() - started) / 1000;
  const byId = new Map(test.map((r) => [r.id, r]));
  // The real answers: each test reference; its "reference" column is the same text (the relevance
  // pool leaves a record's own reference out, so this is no leak).
  const items: LabelledItem[] = test
    .filter((r) => r.reference.trim() !== '')
    .map((r) => ({ id: r.id, domain: r.domain, question_type: r.question_type, question: r.question, question_id: r.question, reference: r.reference, answer: r.reference }));

  const t0 = performance.now();
  const good = await qualities(labelledPredictions(items, 'good', 5));
  const bad: Record<Corruption, number[]> = {} as Record<Corruption, number[]>;
  for (const kind of CORRUPTIONS) bad[kind] = await qualities(labelledPredictions(items, kind, 5));
  const scored = good.length + CORRUPTIONS.reduce((n, k) => n + bad[k].length, 0);
  const seconds = (performance.now() - t0) / 1000;

  const all = CORRUPTIONS.flatMap((k) => bad[k]);
  console.log(`quality on the replication's test answers (${dir})`);
  console.log(`  real answers: ${good.length}, mean quality ${mean(good).toFixed(3)}`);
  console.log(`  ROC AUC, real vs all corruptions (${all.length}): ${rocAuc(good, all).toFixed(3)}`);
  for (const kind of CORRUPTIONS) console.log(`    vs ${kind.padEnd(15)} n=${String(bad[kind].length).padStart(4)}  AUC ${rocAuc(good, bad[kind]).toFixed(3)}  mean quality ${mean(bad[kind]).toFixed(3)}`);
  for (const type of ['open', 'likert', 'yesno', 'agreement']) {
    const idx = items.map((it, i) => (it.question_type === type ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) continue;
    const ids = new Set(idx.map((i) => items[i]!.id));
    const g = idx.map((i) => good[i]!);
    const b = CORRUPTIONS.flatMap((k) => labelledPredictions(items, k, 5).map((r, j) => (ids.has(r.id!) ? bad[k][j]! : NaN))).filter((x) => !Number.isNaN(x));
    console.log(`  ${type.padEnd(9)} real ${String(g.length).padStart(3)} (mean ${mean(g).toFixed(3)}, share with quality 0: ${(g.filter((x) => x === 0).length / g.length).toFixed(3)})  AUC ${b.length ? rocAuc(g, b).toFixed(3) : '–'}`);
  }

  const predFile = join(dir, 'evaluation_results_test_predictions.jsonl');
  if (existsSync(predFile)) {
    const preds = readFileSync(predFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { id: string; reference: string; prediction: string });
    const joined: Array<PredictionRecord & { reference: string }> = preds.map((p) => {
      const t = byId.get(p.id);
      return { id: p.id, domain: t?.domain, question_type: t?.question_type, question: t?.question, reference: p.reference, prediction: p.prediction };
    });
    const q = await qualities(joined);
    console.log(`  the replication's fine-tuned TinyLlama predictions (${q.length}): mean quality ${mean(q).toFixed(3)}`);
  }
  console.log(`  time: ${scored} records scored for quality in ${seconds.toFixed(2)} s (${(scored / seconds).toFixed(0)} records/s); ceiling (read + parse the ${test.length} records): ${ceilingSeconds.toFixed(3)} s`);
}
