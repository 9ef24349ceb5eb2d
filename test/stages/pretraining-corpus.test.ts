import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import samplePersonas from '../../stages/sample-personas/index.js';
import synthesize from '../../stages/synthesize-responses/index.js';
import buildChatml from '../../stages/build-chatml/index.js';
import stage from '../../stages/pretraining-corpus/index.js';
import { artifact, makeStageContext, tempDir } from '../helpers/stage-context.js';
import { PERSONA_DOCUMENT_PROMPT, PERSONA_DOCUMENT_REQUEST, ANSWER_DOCUMENT_PROMPT } from '../../src/survey/corpus.js';
import { personaBlock } from '../../src/survey/record.js';
import { DataError } from '../../src/core/errors.js';

const made: string[] = [];
let chatml: ReturnType<typeof artifact>;
beforeAll(async () => {
  const p = makeStageContext(samplePersonas, { count: 20, records: 80, seed: 3 });
  await samplePersonas.run(p.ctx);
  const s = makeStageContext(synthesize, {}, { inputs: [artifact('personas', p.outDir)], seed: 3 });
  await synthesize.run(s.ctx);
  const c = makeStageContext(buildChatml, { report: false }, { inputs: [artifact('responses', s.outDir)], seed: 3 });
  await buildChatml.run(c.ctx);
  chatml = artifact('chatml', c.outDir, 'chatml');
  made.push(dirname(p.outDir), dirname(s.outDir), dirname(c.outDir));
});
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

async function corpus(params: Record<string, unknown>, input = chatml) {
  const r = makeStageContext(stage, params, { inputs: [input] });
  made.push(dirname(r.outDir));
  await stage.run(r.ctx);
  const jsonl = (f: string) => readFileSync(join(r.outDir, f), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
  return { ...r, jsonl };
}

describe('pretraining-corpus', () => {
  it('writes every persona card once and every answer without its persona: the split text, unpaired', async () => {
    const r = await corpus({});
    const train = readFileSync(join(chatml.dir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const docs = r.jsonl('train.jsonl');
    const personas = docs.filter((d) => d.meta.document === 'persona');
    const answers = docs.filter((d) => d.meta.document === 'answer');
    expect(personas).toHaveLength(new Set(train.map((x) => x.meta.persona_id)).size);
    expect(answers).toHaveLength(train.length);
    for (const d of personas) {
      expect(d.messages).toEqual([{ role: 'system', content: PERSONA_DOCUMENT_PROMPT }, { role: 'user', content: PERSONA_DOCUMENT_REQUEST }, { role: 'assistant', content: expect.stringMatching(/^Persona:\n {2}Age: \d+/) }]);
    }
    const byId = new Map(train.map((x) => [x.id, x]));
    for (const d of answers) {
      const src = byId.get(d.meta.source_id)!;
      expect(d.messages[0]).toEqual({ role: 'system', content: ANSWER_DOCUMENT_PROMPT });
      expect(d.messages[2]).toEqual({ role: 'assistant', content: src.reference });
      // the user turn is the training prompt minus its persona block, and nothing of the persona
      expect(src.messages[1].content).toBe(`${personaBlock(src.persona)}\n\n${d.messages[1].content}`);
      expect(d.messages[1].content).not.toContain('Persona:');
      expect(d.messages[1].content.startsWith('Domain: ')).toBe(true);
    }
    expect(r.jsonl('val.jsonl').length).toBeGreaterThan(0);
    const stats = JSON.parse(readFileSync(join(r.outDir, 'stats.json'), 'utf8'));
    expect(stats.splits.train).toEqual({ records: train.length, documents: docs.length, personas: personas.length, answers: answers.length });
  });

  it('keeps only the document kinds asked for', async () => {
    const r = await corpus({ documents: ['answers'] });
    expect(r.jsonl('train.jsonl').every((d) => d.meta.document === 'answer')).toBe(true);
  });

  it('names the lines of records it cannot use', async () => {
    const dir = tempDir('pp-corpus-');
    made.push(dir);
    writeFileSync(join(dir, 'train.jsonl'), `${JSON.stringify({ id: 'a', domain: 'x', question_type: 'open', reference: 'r' })}\n`);
    writeFileSync(join(dir, 'val.jsonl'), '');
    writeFileSync(join(dir, 'test.jsonl'), '');
    const err = await corpus({}, artifact('chatml', dir, 'bad')).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(/train\.jsonl:1: record "a"/);
    writeFileSync(join(dir, 'train.jsonl'), '');
    rmSync(join(dir, 'val.jsonl'));
    await expect(corpus({}, artifact('chatml', dir, 'bad'))).rejects.toThrow(/has no val split/);
  });
});
