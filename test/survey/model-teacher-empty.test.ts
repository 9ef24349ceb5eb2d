/**
 * The `model` teacher with a model whose answer to one request ends before its first token
 * (issue 11): the run goes on; that record is a per-record failure ("empty answer"), listed by
 * id, and the others are answered. It used to throw "token_ids must be a non-empty array".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { askModelTeacher } from '../../src/survey/teachers/model.js';
import type { TeacherRequest } from '../../src/survey/teachers/openai.js';
import { eosFirstModelDir } from '../model/generate/eos-first-fixture.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('model teacher: an empty answer', () => {
  it('is a per-record failure, not a crash', async () => {
    const requests: TeacherRequest[] = ['a', 'b', 'c'].map((id, i) => ({ id, messages: [{ role: 'system', content: `Persona ${i}.` }, { role: 'user', content: `How do you feel about question ${i}?` }] }));
    const { dir, firstTokens } = await eosFirstModelDir([requests[1]!.messages]);
    made.push(dirname(dir));
    const scratch = mkdtempSync(join(tmpdir(), 'pp-teacher-'));
    made.push(scratch);
    const { answers, failures } = await askModelTeacher(requests, { modelDir: dir, threads: 1, scratchDir: scratch, temperature: 0, topP: 1, maxNewTokens: 4, batchSize: 2, seed: 1 });
    expect(failures).toContainEqual({ id: 'b', reason: 'the model produced an empty answer', attempts: 1 });
    expect(answers.has('b')).toBe(false);
    // The others got an answer unless their first token happens to be the same end token.
    for (const id of ['a', 'c']) expect(answers.has(id) || failures.some((f) => f.id === id)).toBe(true);
    expect(firstTokens).toHaveLength(1);
  });
});
