import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import stage from '../../stages/import-dataset/index.js';
import { makeStageContext, tempDir } from '../helpers/stage-context.js';
import { normalizeRecord, splitFromFileName } from '../../src/survey/import.js';

const card = { age: 41, gender: 'female', occupation: 'teacher', education: "bachelor's", region: 'EU', values: ['family'], interests: ['chess'], income_bracket: '40k-60k' };
const canonical = (i: number, extra: Record<string, unknown> = {}) => ({
  id: `finance-${i}`,
  domain: 'finance',
  persona: card,
  question: `Do you keep a budget? (${i})`,
  question_type: 'yesno',
  reference: `Yes, every month (${i}).`,
  messages: [
    { role: 'system', content: 'Be the persona.' },
    { role: 'user', content: `Persona:\n  Age: 41\n\nDomain: finance\nQuestion: Do you keep a budget? (${i})` },
    { role: 'assistant', content: `Yes, every month (${i}).` },
  ],
  meta: { persona_id: 'pA', question_id: `fq${i}`, domain_id: 'finance' },
  ...extra,
});

async function run(params: Record<string, unknown>, dir: string) {
  const r = makeStageContext(stage, params, { pipelineDir: dir });
  await stage.run(r.ctx);
  const jsonl = (f: string) => readFileSync(join(r.outDir, f), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
  return { ...r, jsonl };
}

describe('normalizeRecord (Algorithm 1 tolerance)', () => {
  const pos = { file: '/d/x.jsonl', line: 3 };
  it('keeps a canonical record and its messages', () => {
    const out = normalizeRecord(canonical(1), pos);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.record).toMatchObject({ id: 'finance-1', domain: 'finance', question_type: 'yesno', question: { id: 'fq1', text: 'Do you keep a budget? (1)' }, reference: 'Yes, every month (1).' });
    expect(out.record.messages).toHaveLength(3);
    expect(out.record.meta).toMatchObject({ persona_id: 'pA', source_file: 'x.jsonl', source_line: 3 });
  });
  it('accepts alternative keys, text personas, type aliases and missing messages', () => {
    const out = normalizeRecord({ uid: 'u7', category: 'Social Issues', question_text: 'Vote?', qtype: 'Yes/No', answer: 'Always.', persona_text: 'A retired judge.' }, pos);
    expect(out).toMatchObject({ ok: true, record: { id: 'u7', domain: 'social_issues', question_type: 'yesno', persona: 'A retired judge.', reference: 'Always.' } });
    if (out.ok) expect(out.record.messages).toBeUndefined();
    const fromMessages = normalizeRecord({ domain: 'tech', question: { id: 'q9', text: 'Like AI?' }, messages: [{ role: 'user', content: 'Persona:\n  Age: 30\n\nDomain: tech\nQuestion: Like AI?' }, { role: 'assistant', content: 'Somewhat.' }] }, pos);
    expect(fromMessages).toMatchObject({ ok: true, record: { id: 'x.jsonl:3', reference: 'Somewhat.', persona: 'Age: 30', question: { id: 'q9' }, question_type: 'open', meta: { question_type_inferred: true } } });
  });
  it('rejects with a reason', () => {
    expect(normalizeRecord([1], pos)).toEqual({ ok: false, id: 'x.jsonl:3', reason: 'not a JSON object' });
    expect(normalizeRecord({ ...canonical(2), question_type: 'ranking' }, pos)).toMatchObject({ ok: false, id: 'finance-2', reason: expect.stringMatching(/unknown question type "ranking"/) });
    const noRef = { ...canonical(3), reference: '', messages: undefined };
    expect(normalizeRecord(noRef, pos)).toMatchObject({ ok: false, reason: expect.stringMatching(/no reference answer/) });
    expect(normalizeRecord({ ...canonical(4), persona: undefined, messages: undefined }, pos)).toMatchObject({ ok: false, reason: expect.stringMatching(/no persona/) });
    expect(normalizeRecord({ ...canonical(5), domain: undefined, meta: {} }, pos)).toMatchObject({ ok: false, reason: expect.stringMatching(/no domain/) });
    expect(normalizeRecord({ ...canonical(6), messages: [{ role: 'bot', content: 1 }] }, pos)).toMatchObject({ ok: false, reason: expect.stringMatching(/messages is not a list/) });
  });
  it('reads the split from file names', () => {
    expect(['data_2_train.json', 'x-val.jsonl', 'validation.jsonl', 'my_test.json', 'all.jsonl', 'trainer.json'].map(splitFromFileName)).toEqual(['train', 'val', 'val', 'test', undefined, undefined]);
  });
});

describe('import-dataset stage', () => {
  it('reads JSONL-in-.json splits and a JSON array, listing rejects by id', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'data'));
    const train = Array.from({ length: 40 }, (_, i) => JSON.stringify(canonical(i))).join('\n') + '\n{"broken\n';
    writeFileSync(join(dir, 'data', 'set_train.json'), train);
    writeFileSync(join(dir, 'data', 'set_test.json'), JSON.stringify([canonical(100), { ...canonical(101), question_type: 'ranking' }, canonical(5)], null, 1));
    const r = await run({ path: 'data', max_rejected_share: 0.1 }, dir);
    const records = r.jsonl('dataset.jsonl');
    expect(records).toHaveLength(41);
    // directory files are read in name order: set_test.json, then set_train.json
    expect(records[0].meta).toMatchObject({ split: 'test', source_file: 'set_test.json', source_line: 1 });
    expect(records.at(-1)!.meta.split).toBe('train');
    const rejected = r.jsonl('rejected.jsonl');
    expect(rejected).toEqual([
      { id: 'finance-101', file: 'set_test.json', line: 2, reason: expect.stringMatching(/unknown question type/) },
      { id: 'finance-5', file: 'set_train.json', line: 6, reason: 'duplicate id (first at set_test.json:3)' },
      { id: 'set_train.json:41', file: 'set_train.json', line: 41, reason: expect.stringMatching(/^not valid JSON/) },
    ]);
    const stats = JSON.parse(readFileSync(join(r.outDir, 'stats.json'), 'utf8'));
    expect(stats).toMatchObject({ records: 41, rejected: 3, domains: { finance: 41 } });
    expect(stage.fileDeps!(r.ctx.params, dir)).toEqual([join(dir, 'data')]);
  });

  it('fails when too many records are rejected, keeping the list', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'd.jsonl'), [canonical(1), { ...canonical(2), reference: '', messages: [] }, { id: 'z' }].map((x) => JSON.stringify(x)).join('\n'));
    const r = makeStageContext(stage, { path: ['d.jsonl'] }, { pipelineDir: dir });
    await expect(stage.run(r.ctx)).rejects.toThrow(/2 of 3 records rejected \(66\.7% > max_rejected_share 5\.0%\); e\.g\. finance-2 \(d\.jsonl:2\): messages is not a list/);
    expect(readFileSync(join(r.ctx.workDir, 'rejected.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('reports missing files and bad JSON arrays clearly', async () => {
    const dir = tempDir();
    await expect(run({ path: 'nope.jsonl' }, dir)).rejects.toThrow(/nope\.jsonl does not exist/);
    writeFileSync(join(dir, 'a.json'), '[{"id": 1},');
    await expect(run({ path: 'a.json' }, dir)).rejects.toThrow(/a\.json: not valid JSON/);
    expect(() => makeStageContext(stage, {})).toThrow(/missing required field "path"/);
  });
});
