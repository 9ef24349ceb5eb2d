import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CliRig } from '../helpers/cli-rig.js';

/**
 * pipelines/offline.yaml end to end, reduced through its params (48 records, a 300-token
 * tokenizer, one short epoch each, 8 new tokens): every stage runs, and the report has the
 * structure the method's result is read from — base and fine-tuned side by side, paired
 * intervals in comparison.json, answer_match beside chance and the persona-blind answerer
 * (baselines.json), Table III per run, persona consistency, the figures — while the
 * dataset report states the persona-disjoint split has no overlap. Numbers are not asserted:
 * this size learns nothing; the full pipeline's result is in the README.
 */
const REDUCED = { seed: 7, personas: 12, records: 48, vocab_size: 300, pretrain_epochs: 1, finetune_epochs: 1, batch_size: 16, max_new_tokens: 8 };

const rig = new CliRig();
afterAll(() => rmSync(rig.dir, { recursive: true, force: true }));

function outputDir(stage: string): string {
  const lock = parse(rig.read('offline.lock.yaml')) as { stages: Record<string, { key: string }> };
  const key = lock.stages[stage]!.key;
  return join(rig.dir, 'runs', 'cache', key.slice(0, 2), key, 'out');
}

describe('pipelines/offline.yaml, reduced', () => {
  it('runs every stage and writes the comparison report', async () => {
    const source = readFileSync(fileURLToPath(new URL('../../pipelines/offline.yaml', import.meta.url)), 'utf8');
    const params = Object.entries(REDUCED).map(([k, v]) => `  ${k}: ${v}`).join('\n');
    const reduced = source.replace(/^params:\n(?: {2}.*\n)+/m, `params:\n${params}\n`);
    expect(reduced).not.toBe(source);
    rig.write('offline.yaml', reduced);

    const result = await rig.run(['run', 'offline.yaml']);
    expect(result.stderr + result.stdout).toMatch(/ok: 13 ran/);
    expect(result.code).toBe(0);

    const report = outputDir('report');
    const read = (f: string): string => readFileSync(join(report, f), 'utf8');
    const md = read('report.md');
    for (const heading of ['## Base vs fine-tuned', '## Table II', '## Table III', '## Persona consistency', '## Figures']) expect(md).toContain(heading);
    const comparison = JSON.parse(read('comparison.json')) as Array<Record<string, unknown>>;
    const metrics = comparison.map((e) => e.metric);
    expect(metrics).toEqual(expect.arrayContaining(['bleu', 'rougeL', 'quality', 'answer_match']));
    for (const e of comparison) {
      const extra = e.metric === 'answer_match' ? ['chance', 'persona_blind'] : [];
      expect(Object.keys(e).sort()).toEqual(['base', 'ci_high', 'ci_low', 'delta', 'finetuned', 'metric', 'n', 'unit', ...extra].sort());
      expect(e.ci_low as number).toBeLessThanOrEqual(e.ci_high as number);
      expect(e.delta as number).toBeCloseTo((e.finetuned as number) - (e.base as number), 12);
    }
    // answer_match beside its reference points, over the same closed test records
    const am = comparison.find((e) => e.metric === 'answer_match')!;
    const baselines = JSON.parse(read('baselines.json')) as { metric: string; train_closed: number; groups: Array<{ group: string; n: number; rows: Array<Record<string, number | string>> }> };
    expect(baselines.metric).toBe('answer_match');
    expect(baselines.train_closed).toBeGreaterThan(0);
    const all = baselines.groups[0]!;
    expect(all.group).toBe('all');
    expect(all.n).toBe(am.n);
    expect(baselines.groups.slice(1).reduce((s, g) => s + g.n, 0)).toBe(all.n); // the closed types partition the units
    const row = (system: string) => all.rows.find((r) => r.system === system)!;
    expect(all.rows.map((r) => r.system)).toEqual(['chance', 'persona_blind_majority', 'persona_blind_marginal', 'base', 'finetuned']);
    expect(row('base').answer_match).toBeCloseTo(am.base as number, 12);
    expect(row('finetuned').answer_match).toBeCloseTo(am.finetuned as number, 12);
    expect(row('chance').answer_match).toBe(am.chance);
    expect(row('persona_blind_majority').answer_match).toBe(am.persona_blind);
    // chance is 1/points averaged over 5-point and yes/no items
    expect(am.chance as number).toBeGreaterThanOrEqual(0.2);
    expect(am.chance as number).toBeLessThanOrEqual(0.5);
    for (const r of all.rows.slice(0, 4)) expect(r.delta_finetuned as number).toBeCloseTo((am.finetuned as number) - (r.answer_match as number), 12);
    expect(md).toContain('### answer_match against chance and a persona-blind answerer');
    const table2 = read('table2.csv').trim().split('\n');
    expect(table2.map((l) => l.split(',')[0])).toEqual(['Model', 'base (no adapter)', 'fine-tuned (QLoRA)']);
    expect(read('table3-runs.csv').split('\n')[0]).toContain('BLEU: base (no adapter)');
    expect(read('consistency.csv')).toContain('fine-tuned (QLoRA)');
    for (const svg of ['bleu-by-model.svg', 'comparison-ci.svg', 'answer-length-by-domain-base-no-adapter.svg', 'answer-length-by-domain-fine-tuned-qlora.svg']) {
      expect(read(svg).startsWith('<svg')).toBe(true);
    }

    const stats = JSON.parse(readFileSync(join(outputDir('chatml'), 'stats.json'), 'utf8'));
    expect(stats.persona_disjoint).toBe(true);
    for (const o of stats.overlap) expect(o).toMatchObject({ shared_personas: 0, shared_persona_question: 0 });
    expect(readFileSync(join(outputDir('chatml'), 'dataset-report.md'), 'utf8')).toContain('## Train/test overlap');
    // the base answers without the adapter, the fine-tuned model with it
    const gen = (s: string) => JSON.parse(readFileSync(join(outputDir(s), 'generation-stats.json'), 'utf8')) as { adapter: unknown };
    expect(gen('pred_base').adapter).toBeNull();
    expect(gen('pred_ft').adapter).not.toBeNull();
  });
});
