/**
 * The seam between generate and score, run for real: template-teacher data → ChatML splits →
 * a tiny model (tokenizer trained on the split) → generate on the test split → score. Every
 * section of metrics.json must be populated, the distribution-fidelity section (RQ2) and the
 * answer scales included; before the prediction record had one owner, generate wrote no
 * question id or scale and this section was silently empty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import samplePersonas from '../../stages/sample-personas/index.js';
import synthesize from '../../stages/synthesize-responses/index.js';
import buildChatml from '../../stages/build-chatml/index.js';
import initModel from '../../stages/init-model/index.js';
import generate from '../../stages/generate/index.js';
import score from '../../stages/score/index.js';
import { artifact, makeStageContext, removeTempDirs, tempDir } from '../helpers/stage-context.js';
import { readChatmlSplit, type NumberedChatmlRecord } from '../../src/formats/chatml.js';
import { recordSchema } from '../../src/formats/schema-check.js';
import { isClosedType } from '../../src/formats/survey-item.js';
import { METRIC_GROUPS, type MetricsJson } from '../../src/metrics/score-file.js';

type Ref = ReturnType<typeof artifact>;

let chatml: Ref;
let predictionsDir: string;
let testRecords: NumberedChatmlRecord[];

async function runStage<P>(definition: Parameters<typeof makeStageContext<P>>[0], params: Record<string, unknown>, inputs: Ref[]): Promise<string> {
  const run = makeStageContext(definition, params, { inputs, seed: 7 });
  await definition.run(run.ctx);
  return run.outDir;
}

async function scoreDir(dir: string): Promise<MetricsJson> {
  const out = await runStage(score, {}, [artifact('predictions', dir, 'predictions')]);
  return JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as MetricsJson;
}

beforeAll(async () => {
  const personas = await runStage(samplePersonas, { count: 40, records: 120, seed: 7 }, []);
  const dataset = await runStage(synthesize, { teacher: { kind: 'template' } }, [artifact('personas', personas)]);
  chatml = artifact('chatml', await runStage(buildChatml, { split: { train: 0.8, val: 0.1, test: 0.1 } }, [artifact('responses', dataset, 'dataset')]));
  const model = await runStage(initModel, { preset: 'tiny', seed: 7, tokenizer: { train_on: 'chatml', vocab_size: 512 } }, [chatml]);
  predictionsDir = await runStage(generate, { split: 'test', do_sample: false, max_new_tokens: 4, batch_size: 8 }, [artifact('model', model, 'base'), chatml]);
  testRecords = readChatmlSplit(join(chatml.dir, 'test.jsonl'));
});

afterAll(removeTempDirs);

describe('generate → score', () => {
  it('generate writes every field of the prediction record, valid against its schema', () => {
    const ajv = new Ajv({ strict: false });
    ajv.addSchema(recordSchema('survey-item'));
    const validate = ajv.compile(recordSchema('prediction-record'));
    const lines = readFileSync(join(predictionsDir, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(testRecords.length);
    lines.forEach((p, i) => {
      const r = testRecords[i]!;
      expect(validate(p), JSON.stringify(validate.errors)).toBe(true);
      expect(Object.keys(p)).toEqual(['id', 'domain', 'question_type', 'question_id', 'question', 'scale', 'reference', 'prediction', 'prompt_tokens', 'completion_tokens', 'finish_reason']);
      expect(p).toMatchObject({ id: r.id, domain: r.domain, question_type: r.question_type, question_id: r.question!.id, question: r.question!.text, reference: r.reference });
      expect(p.scale).toEqual(r.question!.scale ?? null);
    });
    expect(lines.some((p) => p.scale !== null)).toBe(true);
  });

  it('score fills every section from real generate output, answer scales and distribution fidelity included', async () => {
    const m = await scoreDir(predictionsDir);
    expect(m.n).toBe(testRecords.length);
    expect(m.skipped).toEqual([]);
    for (const name of m.metrics) expect(m.overall[name], name).not.toBeNull();
    expect(Object.keys(m.by_domain!).sort()).toEqual([...new Set(testRecords.map((r) => r.domain!))].sort());
    expect(Object.keys(m.by_question_type!).sort()).toEqual([...new Set(testRecords.map((r) => r.question_type!))].sort());
    // One distribution entry per closed question of the split, on that question's own scale.
    const closed = testRecords.filter((r) => isClosedType(r.question_type!));
    expect(closed.length).toBeGreaterThan(0);
    const questionIds = [...new Set(closed.map((r) => r.question!.id))].sort();
    expect(Object.keys(m.distribution.questions)).toEqual(questionIds);
    expect(m.distribution.summary.questions).toBe(questionIds.length);
    for (const id of questionIds) {
      const records = closed.filter((r) => r.question!.id === id);
      const q = m.distribution.questions[id]!;
      expect(q.points).toBe(records[0]!.question!.scale!.points);
      expect(q.n_ref).toBe(records.length); // template references always name a level
      expect(q.ref_hist.reduce((a, b) => a + b, 0)).toBe(records.length);
    }
  });

  it('with answers that match the references, the distribution summary is exact', async () => {
    // A model that answers like the reference: generate's records with prediction := reference.
    const dir = tempDir('pp-oracle-');
    const lines = readFileSync(join(predictionsDir, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    writeFileSync(join(dir, 'predictions.jsonl'), lines.map((p) => JSON.stringify({ ...p, prediction: p.reference })).join('\n') + '\n');
    const m = await scoreDir(dir);
    for (const name of m.metrics) expect(m.overall[name], name).not.toBeNull();
    expect(m.overall.answer_match).toBe(1);
    expect(m.overall.answer_distance).toBe(0);
    expect(m.distribution.summary).toEqual({ wasserstein: 0, jsd: 0, variance_ratio: 1, questions: Object.keys(m.distribution.questions).length });
    for (const q of Object.values(m.distribution.questions)) expect(q.pred_hist).toEqual(q.ref_hist);
    expect(m.metrics).toEqual([...METRIC_GROUPS.lexical!, ...METRIC_GROUPS.survey!]);
  });
});
