import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bleu } from '../../src/metrics/bleu.js';
import { recordDistinctN } from '../../src/metrics/distinct.js';
import { corpusBleu } from '../../src/metrics/sacrebleu.js';
import { resolveMetrics, scorePredictionsFile, writeScoreOutputs } from '../../src/metrics/score-file.js';
import { DataError, UserError } from '../../src/core/errors.js';

function writePredictions(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'pp-score-'));
  const file = join(dir, 'predictions.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const rec = (o: Record<string, unknown>): string => JSON.stringify(o);

describe('scorePredictionsFile', () => {
  const file = writePredictions([
    rec({ id: 'a', domain: 'finance', question_type: 'open', reference: 'I keep an emergency fund.', prediction: 'I keep a small emergency fund.' }),
    '{not json',
    rec({ id: 'b', domain: 'finance', question_type: 'yesno', question_id: 'q1', reference: 'Yes, I do.', prediction: 'No, I do not.' }),
    '',
    rec({ id: 'c', domain: 'health', question_type: 'yesno', question_id: 'q1', reference: 'No.', prediction: 'No, never.' }),
    rec({ id: 'd', reference: 'missing the prediction' }),
    '[1, 2]',
  ]);

  it('lists bad lines by number and scores the rest', async () => {
    const { metrics, records } = await scorePredictionsFile(file);
    expect(metrics.n).toBe(3);
    expect(metrics.skipped.map((s) => s.line)).toEqual([2, 6, 7]);
    expect(metrics.skipped[1]!.reason).toContain('"prediction"');
    expect(records.map((r) => r.line)).toEqual([1, 3, 5]);
    // per-record distinct from the shared token ids equals the direct computation
    expect(records[0]!.scores.distinct_2).toBe(recordDistinctN('I keep a small emergency fund.', 2));
    expect(records[2]!.scores.distinct_1).toBe(recordDistinctN('No, never.', 1));
    expect(records[0]!.prediction_words).toBe(6);
  });

  it('overall means, corpus metrics over all records, groups by domain and type', async () => {
    const { metrics } = await scorePredictionsFile(file);
    const b = [bleu('I keep a small emergency fund.', 'I keep an emergency fund.'), bleu('No, I do not.', 'Yes, I do.'), bleu('No, never.', 'No.')];
    expect(metrics.overall.bleu).toBeCloseTo((b[0]! + b[1]! + b[2]!) / 3, 15);
    expect(metrics.by_domain!.finance!.bleu).toBeCloseTo((b[0]! + b[1]!) / 2, 15);
    expect(metrics.overall.bleu_corpus).toBe(corpusBleu(['I keep a small emergency fund.', 'No, I do not.', 'No, never.'], ['I keep an emergency fund.', 'Yes, I do.', 'No.']).score);
    expect(Object.keys(metrics.by_question_type!)).toEqual(['open', 'yesno']);
    // answers: b mismatches (No vs Yes), c matches (No vs No); open item a is excluded
    expect(metrics.overall.answer_match).toBe(0.5);
    expect(metrics.overall.answer_distance).toBe(0.5);
    expect(metrics.by_question_type!.open!.answer_match).toBeNull();
    const q1 = metrics.distribution.questions.q1!;
    expect(q1.pred_hist).toEqual([2, 0]);
    expect(q1.ref_hist).toEqual([1, 1]);
    expect(q1.wasserstein).toBe(0.5);
    expect(q1.variance_ratio).toBe(0);
  });

  it('honours --metrics and --by, and writes metrics.json + records.jsonl deterministically', async () => {
    const r1 = await scorePredictionsFile(file, { metrics: ['rouge', 'quality'], by: ['domain'] });
    expect(Object.keys(r1.metrics.overall)).toEqual(['rouge1', 'rouge2', 'rougeL', 'rougeLsum', 'quality']);
    expect(r1.metrics.by_question_type).toBeUndefined();
    const d1 = mkdtempSync(join(tmpdir(), 'pp-out-'));
    const d2 = mkdtempSync(join(tmpdir(), 'pp-out-'));
    writeScoreOutputs(d1, r1);
    writeScoreOutputs(d2, await scorePredictionsFile(file, { metrics: ['rouge', 'quality'], by: ['domain'] }));
    for (const f of ['metrics.json', 'records.jsonl']) expect(readFileSync(join(d1, f), 'utf8')).toBe(readFileSync(join(d2, f), 'utf8'));
    expect(readFileSync(join(d1, 'records.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('never yields NaN on empty texts', async () => {
    const f = writePredictions([rec({ id: 'e1', reference: '', prediction: '' }), rec({ id: 'e2', reference: 'x', prediction: '' })]);
    const { metrics } = await scorePredictionsFile(f);
    expect(metrics.n).toBe(2);
    for (const v of Object.values(metrics.overall)) expect(v === null || Number.isFinite(v)).toBe(true);
  });

  it('lists records it cannot score: no id, no reference (null or absent), a duplicate id', async () => {
    const f = writePredictions([
      rec({ reference: 'r', prediction: 'p' }),
      rec({ id: 'a', prediction: 'p' }),
      rec({ id: 'b', reference: null, prediction: 'p' }),
      rec({ id: 'c', reference: 'r', prediction: 'p' }),
      rec({ id: 'c', reference: 'r', prediction: 'q' }),
    ]);
    const { metrics } = await scorePredictionsFile(f);
    expect(metrics.n).toBe(1);
    expect(metrics.skipped).toEqual([
      { line: 1, reason: 'missing required field "id"' },
      { line: 2, reason: 'record "a": no "reference" to score against' },
      { line: 3, reason: 'record "b": no "reference" to score against' },
      { line: 5, reason: 'record "c": duplicate id (first on line 4)' },
    ]);
  });

  it('clear errors: unknown metric, unreadable file, bertscore without an encoder', async () => {
    expect(() => resolveMetrics(['blue'])).toThrow(UserError);
    expect(() => resolveMetrics(['blue'])).toThrow(/unknown metric "blue"/);
    await expect(scorePredictionsFile('/nonexistent/p.jsonl')).rejects.toThrow(DataError);
    await expect(scorePredictionsFile(file, { metrics: ['bertscore'] })).rejects.toThrow(/bertscore/);
  });

  it('uses the BERTScore function it is given', async () => {
    const { metrics } = await scorePredictionsFile(file, {
      metrics: ['bertscore_f1'],
      bertscore: async (p) => p.map((_, i) => ({ precision: i, recall: i, f1: i / 10 })),
    });
    expect(metrics.overall.bertscore_f1).toBeCloseTo(0.1, 15);
  });
});
